// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// What the v2 contracts share (EAS `Common.sol` style): errors and the ETH send.

/// @notice Thrown when an address argument is zero.
error ZeroAddress();
/// @notice Thrown when sending ETH that must arrive fails.
error EthTransferFailed(address to, uint256 amount);

/// @dev Sends `amount` wei to `to` with at most `gasLimit` gas and reports whether it arrived. No return
/// data is copied, so a recipient cannot make the payer pay for a large reply.
function trySendEth(address to, uint256 amount, uint256 gasLimit) returns (bool ok) {
    // Assembly: Solidity's `call` copies the return data, whatever its size.
    // solhint-disable-next-line no-inline-assembly
    assembly ("memory-safe") {
        ok := call(gasLimit, to, amount, 0, 0, 0, 0)
    }
}
