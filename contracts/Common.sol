// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// What PartnerRegistry and OrderBook share (EAS `Common.sol` style): errors, role ids and the ETH payout.

/// @notice Thrown when an address argument is zero.
error ZeroAddress();
/// @notice Thrown when sending ETH to the caller fails.
error EthTransferFailed(address to, uint256 amount);

/// @title SharedRoles
/// @notice Role ids both contracts use; each contract keeps its own holders (AccessControl).
abstract contract SharedRoles {
    /// @notice Role that governs new business: allow-lists tokens and sets the capped fee (OrderBook);
    /// suspends and reinstates partners (PartnerRegistry).
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
}

/// @dev Every ETH payout goes to msg.sender, who asked for it (pull payments). Callers check the caller's
/// entitlement and clear it before calling (checks-effects-interactions).
/// No return data is copied, so a recipient cannot make the payer pay for a large reply.
function sendEthToCaller(uint256 amount) {
    bool ok;
    // Assembly: Solidity's `call` copies the return data, whatever its size.
    // solhint-disable-next-line no-inline-assembly
    assembly ("memory-safe") {
        ok := call(gas(), caller(), amount, 0, 0, 0, 0)
    }
    if (!ok) revert EthTransferFailed(msg.sender, amount);
}
