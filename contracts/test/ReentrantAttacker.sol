// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CallForwarder} from "./CallForwarder.sol";

/// @notice Test-only attacker account for the adversarial tests. Like {EthRejecter} it forwards calls, so it
/// can register as a partner, post as a buyer, claim, ship and withdraw. Unlike it, it accepts ETH, and every
/// time it receives ETH (`receive`) or any other call (`fallback`, e.g. a token's transfer hook) it re-enters
/// the armed target with the armed calldata, up to the armed number of times. The re-entrant call's outcome
/// is recorded in a {Reentered} event instead of bubbled up, so the outer payout still completes and a test
/// sees both what the attacker got and why its re-entry failed (e.g. `ReentrancyGuardReentrantCall()`).
contract ReentrantAttacker is CallForwarder {
    /// @notice One re-entrant call was made: whether it succeeded and its return or revert data.
    event Reentered(address indexed target, bool ok, bytes result);

    /// @notice Contract re-entered on the next callbacks.
    address public reentryTarget;
    /// @notice Calldata of the re-entrant call.
    bytes public reentryData;
    /// @notice ETH sent along with the re-entrant call (e.g. a claim bond).
    uint256 public reentryValue;
    /// @notice How many more callbacks re-enter.
    uint256 public reentriesLeft;
    /// @notice Total ETH received through `receive`.
    uint256 public ethReceived;

    /// @notice Makes the next `times` callbacks call `target` with `data` and `value` wei (funded by this
    /// contract's balance).
    function arm(address target, bytes calldata data, uint256 value, uint256 times) external {
        reentryTarget = target;
        reentryData = data;
        reentryValue = value;
        reentriesLeft = times;
    }

    receive() external payable {
        ethReceived += msg.value;
        _reenter();
    }

    fallback() external payable {
        _reenter();
    }

    function _reenter() private {
        if (reentriesLeft == 0) return;
        --reentriesLeft;
        address target = reentryTarget;
        (bool ok, bytes memory result) = target.call{value: reentryValue}(reentryData);
        emit Reentered(target, ok, result);
    }
}
