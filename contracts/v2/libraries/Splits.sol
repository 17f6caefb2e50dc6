// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Splits
/// @notice How a settled order's price is divided: the buyer's share, then the protocol fee out of the
/// partner's part, then the rest to the payee. Pure, so it can be proved: toBuyer + toPayee + fee == price
/// for every input that does not revert (halmos).
library Splits {
    /// @notice Basis points in one whole.
    uint256 internal constant BPS = 10_000;

    /// @notice Thrown when a split gives the buyer more than the price.
    error ShareAbovePrice(uint256 buyerShare, uint256 price);
    /// @notice Thrown when a fee is above 100 %.
    error FeeAboveWhole(uint256 feeBps);

    /// @notice Splits `price`: `buyerShare` back to the buyer, `feeBps` of the remainder as the fee, the rest
    /// to the payee. Rounds the fee down (in the payee's favour).
    /// @return toBuyer The buyer's part (= `buyerShare`).
    /// @return toPayee The payee's part.
    /// @return fee The protocol fee.
    function split(uint96 price, uint96 buyerShare, uint16 feeBps)
        internal
        pure
        returns (uint96 toBuyer, uint96 toPayee, uint96 fee)
    {
        if (buyerShare > price) revert ShareAbovePrice(buyerShare, price);
        if (feeBps > BPS) revert FeeAboveWhole(feeBps);
        uint96 rest;
        // Unchecked: buyerShare <= price (checked above), so the subtraction does not underflow; rest * feeBps
        // < 2^96 * 2^16 fits in uint256 and, as feeBps <= BPS, the quotient in uint96.
        unchecked {
            rest = price - buyerShare;
            fee = uint96((uint256(rest) * feeBps) / BPS);
        }
        // Checked although fee <= rest: conservation then follows from linear facts alone, which is what lets
        // halmos prove it for all inputs (tests/contracts/forge/SplitsHalmos.t.sol); ~20 gas.
        toPayee = rest - fee;
        toBuyer = buyerShare;
    }

    /// @notice The buyer's share of `price` under an ERC-792 ruling `ruling` in 1..101: (ruling − 1) %.
    /// @dev Callers map ruling 0 (refused to arbitrate) to the expiry split and reject rulings above 101.
    /// @return The buyer's share, rounded down.
    function rulingShare(uint96 price, uint256 ruling) internal pure returns (uint96) {
        // Unchecked: the caller guarantees 1 <= ruling <= 101, so ruling - 1 <= 100 and the product and
        // quotient stay at most price.
        unchecked {
            return uint96((uint256(price) * (ruling - 1)) / 100);
        }
    }
}
