// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Test-only account that forwards calls and rejects incoming ETH (it has no receive function),
/// to exercise failed ETH payouts.
contract EthRejecter {
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
