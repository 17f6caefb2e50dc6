// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Test-only base of contract accounts (ETH rejecter, re-entrant attacker): forwards calls so the
/// contract itself can register, post, claim and withdraw.
abstract contract CallForwarder {
    /// @notice Calls `target` with `data` and msg.value from this contract, bubbling up any revert.
    function execute(address target, bytes calldata data) external payable returns (bytes memory result) {
        bool ok;
        (ok, result) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}
