// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Pull payments: amounts owed are credited, and each beneficiary withdraws its own.
/// @notice A failing recipient (a contract that rejects ETH, a token that reverts) strands only its own
/// credit; nothing loops over beneficiaries.
interface IPullPayments {
    /// @notice `amount` of `token` (address(0) = ETH) became withdrawable by `account` through `withdraw`.
    event Credited(address indexed account, address indexed token, uint256 indexed orderId, uint256 amount);
    /// @notice `account` withdrew its credited balance of `token`.
    event CreditWithdrawn(address indexed account, address indexed token, uint256 amount);

    /// @notice Thrown when a token transfer moved other than the price (fee-on-transfer tokens are rejected).
    error TransferAmountMismatch(uint256 expected, uint256 received);
    /// @notice Thrown when withdrawing a zero credit.
    error NothingToWithdraw(address account, address token);

    /// @notice Pays the caller its whole credited balance of `token` (address(0) = ETH).
    /// @param token The asset.
    function withdraw(address token) external;

    /// @notice Credited balance withdrawable by `account` in `token`.
    /// @param account The account.
    /// @param token The asset (address(0) = ETH).
    /// @return Amount.
    function credits(address account, address token) external view returns (uint256);
}
