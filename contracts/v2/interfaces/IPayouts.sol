// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IPayouts
/// @notice The v2 order book's money side: a credit ledger withdrawn to any recipient, pushed payments that
/// fall back to a credit, and per-token ERC-20 liability so a token whose balance shrank is refused and a
/// surplus can be skimmed.
interface IPayouts {
    /// @notice Emitted when `account` may withdraw `amount` more of `token`, earned by order `orderId`.
    event Credited(address indexed account, address indexed token, uint256 indexed orderId, uint256 amount);
    /// @notice Emitted when `account` withdrew its whole credit of `token` to `to`.
    event CreditWithdrawn(address indexed account, address indexed token, address to, uint256 amount);
    /// @notice Emitted when a token balance above the book's liability was sent to the fee recipient.
    event Skimmed(address indexed token, address indexed to, uint256 amount);

    /// @notice Thrown when the caller has no credit of the token.
    error NothingToWithdraw(address account, address token);
    /// @notice Thrown when the book holds no more of the token than it owes.
    error NothingToSkim(address token);
    /// @notice Thrown when a transfer into the book moved a different amount than asked (fee-on-transfer).
    error TransferAmountMismatch(uint256 expected, uint256 received);
    /// @notice Thrown when the book holds less of a token than it owes (a rebasing token shrank): new escrow
    /// in it is refused.
    error TokenBalanceBelowLiability(address token, uint256 balance, uint256 liability);
    /// @notice Thrown when skimming native ETH (the book's ETH is never rebased).
    error NotAnErc20();

    /// @notice Pays out the caller's whole credit of `token` (address(0) = ETH) to `to`.
    /// @param token The token, or address(0) for ETH.
    /// @param to The recipient (any address: a blacklisted or ETH-rejecting account can name another).
    function withdraw(address token, address to) external;

    /// @notice Sends the book's balance of `token` above its liability to the fee recipient.
    /// @param token An ERC-20.
    function skim(address token) external;

    /// @notice What `account` may withdraw of `token`.
    /// @return The credit.
    function credits(address account, address token) external view returns (uint256);

    /// @notice What the book owes in `token` (escrow plus credits): its balance should be at least this.
    /// @return The liability.
    function liability(address token) external view returns (uint256);
}
