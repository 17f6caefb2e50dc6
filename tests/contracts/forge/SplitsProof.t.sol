// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Splits} from "contracts/v2/libraries/Splits.sol";

/// @dev External entry points, so a revert is observable as a failed call (halmos ignores reverting
/// paths of the check itself; here every path, reverting or not, ends in an assertion).
contract SplitsHarness {
    function split(uint96 price, uint96 buyerShare, uint16 feeBps) external pure returns (uint96, uint96, uint96) {
        return Splits.split(price, buyerShare, feeBps);
    }

    function rulingShare(uint96 price, uint256 ruling) external pure returns (uint96) {
        return Splits.rulingShare(price, ruling);
    }
}

/// @notice The settlement split's properties as forge fuzz tests (forge test): exact rounding, the fee cap, no
/// revert on in-range input and the ruling share. halmos proves conservation for every input
/// (SplitsHalmos.t.sol); these nonlinear ones time out in its solvers, so they are fuzzed.
contract SplitsProof {
    SplitsHarness internal immutable h = new SplitsHarness();

    /// @notice A split conserves value: the parts sum to the price, none exceeds it, the buyer gets its share;
    /// it reverts exactly on inputs out of range (share above the price, fee above 100 %).
    function test_split_conserves_value(uint96 price, uint96 buyerShare, uint16 feeBps) external view {
        try h.split(price, buyerShare, feeBps) returns (uint96 toBuyer, uint96 toPayee, uint96 fee) {
            assert(buyerShare <= price && feeBps <= Splits.BPS);
            assert(uint256(toBuyer) + toPayee + fee == price);
            assert(toBuyer == buyerShare && toPayee <= price && fee <= price);
            // the fee is floor((price - share) * feeBps / BPS): the payee keeps the rounding
            uint256 rest = uint256(price) - buyerShare;
            assert(uint256(fee) * Splits.BPS <= rest * feeBps && (uint256(fee) + 1) * Splits.BPS > rest * feeBps);
        } catch {
            assert(buyerShare > price || feeBps > Splits.BPS);
        }
    }

    /// @notice The fee never exceeds the book's cap for any fee the book accepts: `feeBps <= cap` implies
    /// fee <= price * cap / BPS, for every cap up to 100 % (the book's is MAX_FEE_BPS = 500).
    function test_fee_within_cap(uint96 price, uint96 buyerShare, uint16 feeBps, uint16 cap) external view {
        cap = uint16(cap % (Splits.BPS + 1));
        feeBps = uint16(feeBps % (uint256(cap) + 1));
        buyerShare = uint96(buyerShare % (uint256(price) + 1));
        (,, uint96 fee) = h.split(price, buyerShare, feeBps);
        assert(uint256(fee) * Splits.BPS <= uint256(price) * cap);
    }

    /// @notice A ruling in 1..101 gives the buyer (ruling − 1) % of the price rounded down, never above it;
    /// ruling 1 gives nothing and ruling 101 everything, and a larger ruling never gives less.
    function test_ruling_share_bounded(uint96 price, uint256 ruling, uint256 other) external view {
        ruling = 1 + ruling % 101;
        other = ruling + other % (102 - ruling);
        uint96 share = h.rulingShare(price, ruling);
        assert(share <= price);
        assert(uint256(share) * 100 <= uint256(price) * (ruling - 1));
        assert((uint256(share) + 1) * 100 > uint256(price) * (ruling - 1));
        assert(h.rulingShare(price, other) >= share);
        if (ruling == 1) assert(share == 0);
        if (ruling == 101) assert(share == price);
    }
}
