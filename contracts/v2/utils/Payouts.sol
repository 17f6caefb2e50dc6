// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {EthTransferFailed, ZeroAddress, trySendEth} from "../Common.sol";
import {IPayouts} from "../interfaces/IPayouts.sol";

/// @title Payouts
/// @notice The v2 book's money side: exact escrow intake, a credit ledger withdrawn to any recipient,
/// completion payments pushed with bounded gas that fall back to a credit, and per-token ERC-20 liability
/// (escrow plus credits) so a shrunken token is refused and a surplus skimmed. Native ETH needs no liability:
/// only forced sends can add to it, never subtract.
abstract contract Payouts is IPayouts, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Gas a pushed ETH payment may use (a Safe or a smart account's receive fits); a recipient that
    /// needs more, or reverts, is credited instead.
    uint256 public constant PUSH_GAS = 30_000;

    mapping(address account => mapping(address token => uint256 amount)) private _credits;
    mapping(address token => uint256 amount) private _liability;

    /// @inheritdoc IPayouts
    function withdraw(address token, address to) external nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        uint256 amount = _credits[msg.sender][token];
        if (amount == 0) revert NothingToWithdraw(msg.sender, token);
        _credits[msg.sender][token] = 0;
        emit CreditWithdrawn(msg.sender, token, to, amount);
        if (token == address(0)) {
            if (!trySendEth(to, amount, gasleft())) revert EthTransferFailed(to, amount);
        } else {
            _liability[token] -= amount;
            IERC20(token).safeTransfer(to, amount);
        }
    }

    /// @inheritdoc IPayouts
    function skim(address token) external nonReentrant {
        if (token == address(0)) revert NotAnErc20();
        uint256 balance = IERC20(token).balanceOf(address(this));
        uint256 owed = _liability[token];
        if (balance <= owed) revert NothingToSkim(token);
        address to = _surplusRecipient();
        // Unchecked: balance > owed (checked above).
        unchecked {
            emit Skimmed(token, to, balance - owed);
            IERC20(token).safeTransfer(to, balance - owed);
        }
    }

    /// @inheritdoc IPayouts
    function credits(address account, address token) external view returns (uint256) {
        return _credits[account][token];
    }

    /// @inheritdoc IPayouts
    function liability(address token) external view returns (uint256) {
        return _liability[token];
    }

    /// @dev Receiver of skimmed surplus.
    function _surplusRecipient() internal view virtual returns (address);

    /// @dev Makes `amount` of `token` withdrawable by `account`, earned by order `orderId`; zero is skipped.
    /// ERC-20 credits stay in the liability until withdrawn.
    function _credit(address account, address token, uint256 orderId, uint256 amount) internal {
        if (amount == 0) return;
        _credits[account][token] += amount;
        emit Credited(account, token, orderId, amount);
    }

    /// @dev Pays `amount` of `token` to `to` now, with bounded gas for ETH; credits it if the transfer fails
    /// (an ETH-rejecting or blacklisted payee), so a payee can never block the caller's transition.
    /// Call last (checks-effects-interactions).
    function _push(address to, address token, uint256 orderId, uint256 amount) internal {
        if (amount == 0) return;
        bool ok;
        if (token == address(0)) {
            ok = trySendEth(to, amount, PUSH_GAS);
        } else {
            _liability[token] -= amount;
            ok = IERC20(token).trySafeTransfer(to, amount);
            if (!ok) _liability[token] += amount;
        }
        // A payment that arrived is stated by the caller's event; one that did not becomes a credit.
        if (!ok) _credit(to, token, orderId, amount);
    }

    /// @dev Takes exactly `amount` of `token` from msg.sender into escrow (fee-on-transfer tokens revert), and
    /// refuses a token whose balance already fell below what the book owes in it (rebased down).
    function _pullExact(address token, uint256 amount) internal {
        uint256 balanceBefore = IERC20(token).balanceOf(address(this));
        uint256 owed = _liability[token];
        if (balanceBefore < owed) revert TokenBalanceBelowLiability(token, balanceBefore, owed);
        _liability[token] = owed + amount;
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert TransferAmountMismatch(amount, received);
    }
}
