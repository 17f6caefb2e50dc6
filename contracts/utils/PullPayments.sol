// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {sendEthToCaller} from "../Common.sol";
import {IPullPayments} from "../interfaces/IPullPayments.sol";

/// @title PullPayments
/// @notice The money side of the order book: exact escrow intake, the credit ledger and payouts to the caller.
/// OpenZeppelin 5 removed its `PullPayment`/`Escrow`; this is the withdrawable-balance mapping it recommends,
/// with SafeERC20 and a transient reentrancy guard.
abstract contract PullPayments is IPullPayments, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    mapping(address account => mapping(address token => uint256 amount)) private _credits;

    /// @inheritdoc IPullPayments
    function withdraw(address token) external nonReentrant {
        uint256 amount = _credits[msg.sender][token];
        if (amount == 0) revert NothingToWithdraw(msg.sender, token);
        _credits[msg.sender][token] = 0;
        emit CreditWithdrawn(msg.sender, token, amount);
        if (token == address(0)) sendEthToCaller(amount);
        else IERC20(token).safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IPullPayments
    function credits(address account, address token) external view returns (uint256) {
        return _credits[account][token];
    }

    /// @dev Makes `amount` of `token` withdrawable by `account`, earned by order `orderId`; zero is skipped.
    function _credit(address account, address token, uint256 orderId, uint256 amount) internal {
        if (amount == 0) return;
        _credits[account][token] += amount;
        emit Credited(account, token, orderId, amount);
    }

    /// @dev Takes exactly `amount` of `token` from msg.sender (fee-on-transfer tokens revert).
    function _pullExact(IERC20 token, uint256 amount) internal {
        uint256 balanceBefore = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert TransferAmountMismatch(amount, received);
    }
}
