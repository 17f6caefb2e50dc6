// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Outcome, PartnerInfo} from "../Types.sol";

/// @title Partner registry v2: manufacturers, bonds (free and locked by orders), vetting bound to the
/// profile seen, certifications, accredited inspectors and reputation.
/// @notice Restricted functions are AccessManaged (contracts/v2/README.md has who may call each and with
/// which delay). Only the order book locks, releases and slashes bonds and writes reputation.
interface IPartnerRegistryV2 {
    // ------------------------------------------------------------ book-facing (frozen: the book calls these)

    /// @notice Checks that `partner` may take an order with these requirements (registered, vetted, not
    /// suspended or unbonding, capabilities, materials, certifications) and locks `amount` of its free bond.
    /// @dev Only the order book. Reverts with the registry's eligibility errors or `BondUnavailable`.
    function lockBond(address partner, uint96 amount, uint32 processes, uint64 materials, uint128 certIds)
        external;

    /// @notice Unlocks `amount` of `partner`'s locked bond and records `outcome` (None: no change).
    /// @dev Only the order book.
    function releaseBond(address partner, uint96 amount, Outcome outcome) external;

    /// @notice Removes `amount` of `partner`'s locked bond, records `outcome` and sends the ETH to the order
    /// book, which credits it to the wronged buyer.
    /// @dev Only the order book.
    function slashBond(address partner, uint96 amount, Outcome outcome) external;

    /// @notice Records a reputation outcome without touching bonds (a failed QA attestation).
    /// @dev Only the order book.
    function recordOutcome(address partner, Outcome outcome) external;

    /// @notice Whether `inspector` is currently accredited by a certifier.
    function isAccreditedInspector(address inspector) external view returns (bool);

    /// @notice The order book (immutable: the only bond and reputation writer).
    function orderBook() external view returns (address);

    /// @notice The partner as stored.
    function partnerInfo(address partner) external view returns (PartnerInfo memory);
}
