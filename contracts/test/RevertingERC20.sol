// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MintableERC20} from "./MintableERC20.sol";

/// @notice Test-only ERC-20 whose transfers revert with {TransfersBlocked} while {setBlocked} is on (a paused
/// or blacklisting token); minting still works. It can be blocked after an order was posted, to check that
/// payouts fail without losing the credit.
contract RevertingERC20 is MintableERC20 {
    /// @notice Thrown by every transfer while blocked.
    error TransfersBlocked();

    /// @notice Whether transfers currently revert.
    bool public blocked;

    constructor() MintableERC20("Blocked Token", "BLOCK") {}

    /// @notice Switches the failure mode (anyone may call: test only).
    function setBlocked(bool on) external {
        blocked = on;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blocked && from != address(0) && to != address(0)) revert TransfersBlocked();
        super._update(from, to, value);
    }
}
