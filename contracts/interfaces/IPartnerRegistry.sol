// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Outcome, PartnerInfo, PartnerProfile} from "../Types.sol";

/// @title Partner registry: manufacturers, their bonds, vetting, certifications and reputation.
/// @notice Certification history is replayable per block from `CertificationGranted` /
/// `CertificationRevoked`; `isCertified` answers for the current block.
/// @dev `ZeroAddress` and `EthTransferFailed` are declared in contracts/Common.sol.
interface IPartnerRegistry {
    /// @notice Emitted when a manufacturer registers (or re-registers after withdrawing its bond).
    event PartnerRegistered(address indexed partner, PartnerProfile profile, bytes encryptionKey, uint256 bond);
    /// @notice Emitted when a partner updates its profile; `vettingCleared` if capabilities changed.
    event PartnerProfileUpdated(address indexed partner, PartnerProfile profile, bool vettingCleared);
    /// @notice Emitted when a partner rotates its HPKE public encryption key.
    event EncryptionKeyRotated(address indexed partner, bytes encryptionKey);
    /// @notice Emitted when a certifier vets a partner.
    event PartnerVetted(address indexed partner, address indexed certifier, bytes32 evidenceCid);
    /// @notice Emitted when a certifier attaches (or renews) a certification.
    event CertificationGranted(
        address indexed partner, uint32 indexed certId, address indexed certifier, uint40 expiry, bytes32 evidenceCid
    );
    /// @notice Emitted when a certifier revokes a certification before its expiry.
    event CertificationRevoked(
        address indexed partner, uint32 indexed certId, address indexed certifier, bytes32 reasonCid
    );
    /// @notice Emitted when governance suspends a partner (it can no longer claim orders).
    event PartnerSuspended(address indexed partner, address indexed governor, bytes32 reasonCid);
    /// @notice Emitted when governance lifts a suspension.
    event PartnerReinstated(address indexed partner, address indexed governor);
    /// @notice Emitted when a partner starts unbonding; it can withdraw the bond at `readyAt`.
    event UnbondingStarted(address indexed partner, uint40 readyAt);
    /// @notice Emitted when a partner withdraws its bond and leaves the registry.
    event BondWithdrawn(address indexed partner, uint256 amount);

    /// @notice Thrown when the caller or subject is not a registered partner.
    error NotRegistered(address partner);
    /// @notice Thrown when registering an address that is already registered.
    error AlreadyRegistered(address partner);
    /// @notice Thrown when the registration bond is below the deploy-time minimum.
    error BondTooLow(uint256 sent, uint256 minimum);
    /// @notice Thrown when the encryption key is neither 0x01 ‖ X25519 (33 bytes) nor 0x02 ‖ X25519+ML-KEM-768
    /// (X-Wing, 1217 bytes).
    error InvalidEncryptionKey(uint256 length);
    /// @notice Thrown when a partner that is not vetted tries to claim.
    error NotVetted(address partner);
    /// @notice Thrown when a suspended partner tries to claim, or a suspended partner is suspended again.
    error PartnerIsSuspended(address partner);
    /// @notice Thrown when reinstating a partner that is not suspended.
    error PartnerNotSuspended(address partner);
    /// @notice Thrown when an unbonding partner tries to claim or unbond again.
    error PartnerIsUnbonding(address partner);
    /// @notice Thrown when withdrawing a bond without having started unbonding.
    error NotUnbonding(address partner);
    /// @notice Thrown when withdrawing a bond before the unbonding delay has elapsed.
    error UnbondingNotElapsed(uint40 readyAt);
    /// @notice Thrown when a partner lacks a required process or material bit.
    error CapabilityMismatch(address partner, uint32 processes, uint64 materials);
    /// @notice Thrown when a partner lacks a required certification, or it is expired or revoked.
    error CertificationMissing(address partner, uint32 certId);
    /// @notice Thrown when a certification id is zero (reserved for "unused").
    error InvalidCertId();
    /// @notice Thrown when a certification expiry is not in the future.
    error ExpiryNotInFuture(uint40 expiry);
    /// @notice Thrown when revoking a certification that is not currently valid.
    error CertificationNotActive(address partner, uint32 certId);
    /// @notice Thrown when a reputation write does not come from the order book.
    error NotOrderBook(address caller);

    /// @notice Registers the caller as a manufacturer with an ETH bond of at least `minBond()`.
    /// @param profile Capabilities, materials, region, capacity hint and profile document CID.
    /// @param encryptionKey HPKE public key, suite-prefixed: 0x01 ‖ X25519 (33 bytes) or 0x02 ‖ X-Wing (1217 bytes).
    function register(PartnerProfile calldata profile, bytes calldata encryptionKey) external payable;

    /// @notice Replaces the caller's profile; changing capabilities or materials clears its vetting.
    /// @param profile The new profile.
    function updateProfile(PartnerProfile calldata profile) external;

    /// @notice Rotates the caller's HPKE public encryption key.
    /// @param encryptionKey The new key (33 or 1217 bytes, suite-prefixed).
    function rotateEncryptionKey(bytes calldata encryptionKey) external;

    /// @notice Starts the unbonding delay; the partner can no longer claim orders.
    function startUnbonding() external;

    /// @notice Pays the caller its bond after the unbonding delay and deregisters it (reputation is kept).
    function withdrawBond() external;

    /// @notice Marks a registered partner as vetted. Certifier only.
    /// @param partner The partner.
    /// @param evidenceCid Digest of the vetting report CID.
    function vet(address partner, bytes32 evidenceCid) external;

    /// @notice Attaches or renews a certification. Certifier only.
    /// @param partner The partner.
    /// @param certId Certification id (1 = ISO 9001, 2 = AS9100, 3 = ISO 13485, others custom; 0 invalid).
    /// @param expiry Unix time after which the certification no longer counts.
    /// @param evidenceCid Digest of the certificate document CID.
    function certify(address partner, uint32 certId, uint40 expiry, bytes32 evidenceCid) external;

    /// @notice Revokes a valid certification now. Certifier only.
    /// @param partner The partner.
    /// @param certId The certification id.
    /// @param reasonCid Digest of the reason document CID.
    function revokeCertification(address partner, uint32 certId, bytes32 reasonCid) external;

    /// @notice Suspends a partner from claiming orders. Governance only; it cannot touch the bond.
    /// @param partner The partner.
    /// @param reasonCid Digest of the reason document CID.
    function suspend(address partner, bytes32 reasonCid) external;

    /// @notice Lifts a suspension. Governance only.
    /// @param partner The partner.
    function reinstate(address partner) external;

    /// @notice Records a reputation outcome for a partner. Order book only.
    /// @param partner The partner.
    /// @param outcome What happened.
    function recordOutcome(address partner, Outcome outcome) external;

    /// @notice Reverts with the reason a partner may not claim an order with these requirements.
    /// @param partner The would-be claimant.
    /// @param processes Required process bits.
    /// @param materials Required material bits.
    /// @param certIds Up to four required certification ids (uint32 each, 0 = unused).
    function checkEligible(address partner, uint32 processes, uint64 materials, uint128 certIds) external view;

    /// @notice Whether `partner` holds certification `certId`, unexpired and unrevoked, at this block.
    /// @param partner The partner.
    /// @param certId The certification id.
    /// @return True if certified now.
    function isCertified(address partner, uint32 certId) external view returns (bool);

    /// @notice Expiry of a certification (0 if never granted or revoked).
    /// @param partner The partner.
    /// @param certId The certification id.
    /// @return expiry Unix time.
    function certificationExpiry(address partner, uint32 certId) external view returns (uint40 expiry);

    /// @notice Everything the registry stores about a partner.
    /// @param partner The partner.
    /// @return info The unpacked record.
    function partnerInfo(address partner) external view returns (PartnerInfo memory info);

    /// @notice Minimum registration bond, fixed at deploy.
    /// @return Wei.
    function minBond() external view returns (uint256);

    /// @notice Unbonding delay, fixed at deploy.
    /// @return Seconds.
    function unbondingDelay() external view returns (uint256);

    /// @notice The order book, the only address allowed to write reputation (immutable).
    /// @return The order book address.
    function orderBook() external view returns (address);
}
