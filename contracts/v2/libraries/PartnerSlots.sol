// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPartnerRegistryV2} from "../interfaces/IPartnerRegistryV2.sol";
import {Outcome, PartnerSlot} from "../Types.sol";

/// @title PartnerSlots
/// @notice A partner's `PartnerSlot` as one storage word, the award's eligibility check and the bond lock and
/// release on it: shared by the order book, which stores the word, and the registry, which reads and writes
/// it through the book (`IPartnerSlots`).
library PartnerSlots {
    /// @dev Flag bits (PartnerRegistryV2.FLAG_*).
    uint8 internal constant FLAG_REGISTERED = 1;
    uint8 internal constant FLAG_VETTED = 2;
    uint8 internal constant FLAG_SUSPENDED = 4;
    uint8 internal constant FLAG_UNBONDING = 8;
    // The flags an award needs, out of the four it looks at: one comparison on the happy path.
    uint8 private constant AWARD_MASK = FLAG_REGISTERED | FLAG_VETTED | FLAG_SUSPENDED | FLAG_UNBONDING;
    uint8 private constant AWARDABLE = FLAG_REGISTERED | FLAG_VETTED;

    // Bit offsets of the word's fields above the flags byte.
    uint256 private constant COMPLETED = 8;
    uint256 private constant ON_TIME = 32;
    uint256 private constant CAPABILITIES = 56;
    uint256 private constant MATERIALS = 88;
    uint256 private constant FREE = 152;

    /// @dev The word's fields, lowest bits first (Solidity's packing of `PartnerSlot`).
    function unpack(uint256 word) internal pure returns (PartnerSlot memory s) {
        s = PartnerSlot(
            uint8(word), uint24(word >> COMPLETED), uint24(word >> ON_TIME), uint32(word >> CAPABILITIES),
            uint64(word >> MATERIALS), uint96(word >> FREE)
        );
    }

    /// @dev The inverse of `unpack`.
    function pack(PartnerSlot memory s) internal pure returns (uint256) {
        return uint256(s.flags) | uint256(s.completed) << COMPLETED | uint256(s.onTime) << ON_TIME
            | uint256(s.capabilities) << CAPABILITIES | uint256(s.materials) << MATERIALS | uint256(s.free) << FREE;
    }

    /// @dev The free bond of slot word `word`.
    function free(uint256 word) internal pure returns (uint96) {
        return uint96(word >> FREE);
    }

    /// @dev Reverts unless `partner` (slot word `word`) may take an order needing these processes and
    /// materials: registered, vetted, not suspended, not unbonding, every bit. Certifications are the
    /// registry's check (`checkCertifications`).
    function checkEligible(uint256 word, address partner, uint32 processes, uint64 materials) internal pure {
        uint8 flags = uint8(word);
        if (flags & AWARD_MASK != AWARDABLE) {
            if (flags & FLAG_REGISTERED == 0) revert IPartnerRegistryV2.NotRegistered(partner);
            if (flags & FLAG_SUSPENDED != 0) revert IPartnerRegistryV2.PartnerIsSuspended(partner);
            if (flags & FLAG_UNBONDING != 0) revert IPartnerRegistryV2.PartnerIsUnbonding(partner);
            revert IPartnerRegistryV2.NotVetted(partner);
        }
        if (
            uint32(word >> CAPABILITIES) & processes != processes || uint64(word >> MATERIALS) & materials != materials
        ) {
            revert IPartnerRegistryV2.CapabilityMismatch(partner, processes, materials);
        }
    }

    /// @dev `word` with `amount` of its free bond locked; reverts `BondUnavailable` above the free bond.
    function lock(uint256 word, address partner, uint96 amount) internal pure returns (uint256) {
        uint96 available = free(word);
        if (amount > available) revert IPartnerRegistryV2.BondUnavailable(partner, amount, available);
        // Unchecked: amount <= the free field (checked just above), so no borrow leaves it.
        unchecked {
            return word - (uint256(amount) << FREE);
        }
    }

    /// @dev `word` with `amount` unlocked and a completion outcome counted (None, or either kind of completion:
    /// the registry counts the others). The book releases exactly the bond its order commitment says it locked
    /// (the forge campaign's ghost ledger checks locked = the sum over open orders); checked arithmetic still
    /// stops a free bond above 2^96.
    function release(uint256 word, uint96 amount, Outcome outcome) internal pure returns (uint256) {
        uint96 freed = free(word) + amount;
        word = (word & type(uint152).max) | uint256(freed) << FREE;
        if (outcome == Outcome.CompletedOnTime) {
            word = _increment(_increment(word, COMPLETED), ON_TIME);
        } else if (outcome == Outcome.CompletedLate) {
            word = _increment(word, COMPLETED);
        }
        return word;
    }

    /// @dev `word` with the uint24 counter at bit `at` incremented. It wraps within its field: 2^24 (16.7 M)
    /// completions of one partner means as many paid orders, and a checked revert would instead block the
    /// completion that records it.
    function _increment(uint256 word, uint256 at) private pure returns (uint256) {
        uint256 counter;
        // Unchecked: the sum of a uint24 and 1 fits a uint256; it is truncated to 24 bits below.
        unchecked {
            counter = ((word >> at) + 1) & type(uint24).max;
        }
        return (word & ~(uint256(type(uint24).max) << at)) | counter << at;
    }
}
