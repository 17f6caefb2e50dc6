// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title The order book's copy-free store of each partner's award slot
/// @notice The one `PartnerSlot` of each partner (flags, completion counters, capabilities, materials, free
/// bond) lives in the order book, so an award and a completion read and write it without calling the registry;
/// the registry reads and writes it through these two functions (contracts/v2/README.md, gas).
interface IPartnerSlots {
    /// @notice Thrown when anyone but the registry writes a partner slot.
    error NotRegistry(address caller);

    /// @notice `partner`'s `PartnerSlot` as its storage word (PartnerSlots.pack; zero for an address that
    /// never registered).
    function partnerWord(address partner) external view returns (uint256);

    /// @notice Replaces `partner`'s slot with `word` (PartnerSlots.pack).
    /// @dev Only the registry (immutable), which reads, changes and writes back in one call of its own.
    function setPartnerWord(address partner, uint256 word) external;
}
