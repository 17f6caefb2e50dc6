// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Outcome, PartnerInfo, PartnerProfile} from "../Types.sol";

/// @title Partner registry v2: manufacturers, bonds (free and locked by orders), vetting bound to the
/// profile seen, certifications, accredited inspectors and reputation.
/// @notice Restricted functions are AccessManaged (contracts/v2/README.md has who may call each and with
/// which delay). Only the order book locks, releases and slashes bonds and writes reputation; it stores each
/// partner's `PartnerSlot` (IPartnerSlots), which the registry reads and writes there.
interface IPartnerRegistryV2 {
    // ------------------------------------------------------------ book-facing (frozen: the book calls these)

    /// @notice Reverts with `CertificationMissing` unless `partner` holds every nonzero certification id packed
    /// in `certIds` (up to four uint32, lowest first), unexpired. The book asks it at an award that names any;
    /// the rest of the eligibility check and the bond lock run in the book, on the partner's `PartnerSlot`.
    function checkCertifications(address partner, uint128 certIds) external view;

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

    // ------------------------------------------------------------------------------------------- events

    /// @notice Emitted when a manufacturer registers (or re-registers after withdrawing its whole bond).
    event PartnerRegistered(address indexed partner, PartnerProfile profile, bytes encryptionKey, uint256 bond);
    /// @notice Emitted when a partner replaces its profile; `vettingCleared` if capabilities or materials
    /// changed.
    event PartnerProfileUpdated(address indexed partner, PartnerProfile profile, bool vettingCleared);
    /// @notice Emitted when a partner rotates its HPKE public encryption key.
    event EncryptionKeyRotated(address indexed partner, bytes encryptionKey);
    /// @notice Emitted when a partner tops up its bond; `bond` is the new total (free and locked).
    event BondAdded(address indexed partner, uint256 amount, uint256 bond);
    /// @notice Emitted when a partner starts unbonding; from `readyAt` on it can withdraw its free bond.
    event UnbondingStarted(address indexed partner, uint40 readyAt);
    /// @notice Emitted when a partner withdraws its free bond to `to`; `deregistered` if nothing stayed
    /// locked, so the partner left the registry (reputation and a suspension are kept).
    event BondWithdrawn(address indexed partner, address indexed to, uint256 amount, bool deregistered);
    /// @notice Emitted when a certifier vets the profile whose hash is `profileHash`.
    event PartnerVetted(address indexed partner, address indexed certifier, bytes32 profileHash, bytes32 evidenceCid);
    /// @notice Emitted when a certifier withdraws a partner's vetting.
    event PartnerUnvetted(address indexed partner, address indexed certifier, bytes32 reasonCid);
    /// @notice Emitted when a certifier attaches (or renews) a certification.
    event CertificationGranted(
        address indexed partner, uint32 indexed certId, address indexed certifier, uint40 expiry, bytes32 evidenceCid
    );
    /// @notice Emitted when a certifier revokes a certification before its expiry.
    event CertificationRevoked(
        address indexed partner, uint32 indexed certId, address indexed certifier, bytes32 reasonCid
    );
    /// @notice Emitted when a certifier accredits (or renews) an inspector until `expiry`.
    event InspectorAccredited(address indexed inspector, address indexed certifier, uint40 expiry, bytes32 evidenceCid);
    /// @notice Emitted when a certifier revokes an inspector's accreditation before its expiry.
    event InspectorRevoked(address indexed inspector, address indexed certifier, bytes32 reasonCid);
    /// @notice Emitted when the guardian suspends a partner (no new awards; open orders and the bond untouched).
    event PartnerSuspended(address indexed partner, address indexed guardian, bytes32 reasonCid);
    /// @notice Emitted when governance lifts a suspension.
    event PartnerReinstated(address indexed partner, address indexed governor);

    // ------------------------------------------------------------------------------------------- errors

    /// @notice Thrown when an address argument is zero.
    error ZeroAddress();
    /// @notice Thrown when the caller or subject is not a registered partner.
    error NotRegistered(address partner);
    /// @notice Thrown when registering an address that is already registered.
    error AlreadyRegistered(address partner);
    /// @notice Thrown when the registration bond is below the deploy-time minimum.
    error BondTooLow(uint256 sent, uint256 minimum);
    /// @notice Thrown when topping up the bond with no ETH.
    error ZeroBond();
    /// @notice Thrown when the encryption key is neither 0x01 ‖ X25519 (33 bytes) nor 0x02 ‖ X-Wing
    /// (ML-KEM-768 + X25519, 1217 bytes).
    error InvalidEncryptionKey(uint256 length);
    /// @notice Thrown when an unvetted partner would be awarded, or an unvetted partner is unvetted.
    error NotVetted(address partner);
    /// @notice Thrown when vetting a profile other than the partner's current one (it changed since the
    /// certifier read it).
    error ProfileHashMismatch(address partner, bytes32 expected, bytes32 current);
    /// @notice Thrown when a suspended partner would be awarded, or is suspended again.
    error PartnerIsSuspended(address partner);
    /// @notice Thrown when reinstating a partner that is not suspended.
    error PartnerNotSuspended(address partner);
    /// @notice Thrown when an unbonding partner would be awarded or starts unbonding again.
    error PartnerIsUnbonding(address partner);
    /// @notice Thrown when withdrawing a bond without having started unbonding.
    error NotUnbonding(address partner);
    /// @notice Thrown when withdrawing a bond before the unbonding delay has elapsed.
    error UnbondingNotElapsed(uint40 readyAt);
    /// @notice Thrown when withdrawing while all of the bond is locked by open orders.
    error BondFullyLocked(address partner, uint256 locked);
    /// @notice Thrown when the partner's free bond (bond − locked) is below what an award would lock.
    error BondUnavailable(address partner, uint256 amount, uint256 free);
    /// @notice Thrown when a partner lacks a required process or material bit.
    error CapabilityMismatch(address partner, uint32 processes, uint64 materials);
    /// @notice Thrown when a partner lacks a required certification, or it expired or was revoked.
    error CertificationMissing(address partner, uint32 certId);
    /// @notice Thrown when a certification id is zero (reserved for "unused").
    error InvalidCertId();
    /// @notice Thrown when a certification or accreditation expiry is not in the future.
    error ExpiryNotInFuture(uint40 expiry);
    /// @notice Thrown when revoking a certification that is not currently valid.
    error CertificationNotActive(address partner, uint32 certId);
    /// @notice Thrown when revoking an inspector that is not currently accredited.
    error InspectorNotAccredited(address inspector);
    /// @notice Thrown when a bond or reputation write does not come from the order book.
    error NotOrderBook(address caller);

    // ---------------------------------------------------------------------------------------- partners

    /// @notice Registers the caller as a manufacturer with an ETH bond of at least `minBond()`.
    /// @param profile Capabilities, materials, region, capacity hint and profile document CID.
    /// @param encryptionKey HPKE public key, suite-prefixed: 0x01 ‖ X25519 (33 bytes) or 0x02 ‖ X-Wing (1217).
    function register(PartnerProfile calldata profile, bytes calldata encryptionKey) external payable;

    /// @notice Replaces the caller's profile; changing capabilities or materials clears its vetting.
    /// @param profile The new profile.
    function updateProfile(PartnerProfile calldata profile) external;

    /// @notice Rotates the caller's HPKE public encryption key (orders awarded later use the new one).
    /// @param encryptionKey The new key (33 or 1217 bytes, suite-prefixed).
    function rotateEncryptionKey(bytes calldata encryptionKey) external;

    /// @notice Adds `msg.value` to the caller's bond.
    function addBond() external payable;

    /// @notice Starts the unbonding delay; from now on the partner cannot be awarded.
    function startUnbonding() external;

    /// @notice After the unbonding delay, sends the caller's free bond (bond − locked) to `to`. With nothing
    /// locked, the partner leaves the registry (reputation and a suspension are kept for a re-registration);
    /// otherwise it stays registered and unbonding, and withdraws the rest once its orders release it.
    /// @param to Recipient of the ETH.
    function withdrawBond(address payable to) external;

    // ---------------------------------------------------------------------------- certifier (restricted)

    /// @notice Vets a registered partner's current profile. Certifier only.
    /// @param partner The partner.
    /// @param seenProfileHash `profileHash(partner)` as the certifier read it: a profile changed since then
    /// makes the call revert, so a front-running update cannot get vetted.
    /// @param evidenceCid Digest of the vetting report CID.
    function vet(address partner, bytes32 seenProfileHash, bytes32 evidenceCid) external;

    /// @notice Withdraws a partner's vetting. Certifier only.
    /// @param partner The partner.
    /// @param reasonCid Digest of the reason document CID.
    function unvet(address partner, bytes32 reasonCid) external;

    /// @notice Attaches or renews a certification. Certifier only.
    /// @param partner The partner.
    /// @param certId Certification id (1 = ISO 9001, 2 = AS9100, 3 = ISO 13485, others custom; 0 invalid).
    /// @param expiry Unix time from which the certification no longer counts.
    /// @param evidenceCid Digest of the certificate document CID.
    function certify(address partner, uint32 certId, uint40 expiry, bytes32 evidenceCid) external;

    /// @notice Revokes a valid certification now. Certifier only.
    /// @param partner The partner.
    /// @param certId The certification id.
    /// @param reasonCid Digest of the reason document CID.
    function revokeCertification(address partner, uint32 certId, bytes32 reasonCid) external;

    /// @notice Accredits (or renews) an inspector until `expiry`: orders whose spec names it accept its
    /// attestations. Certifier only.
    /// @param inspector The inspector.
    /// @param expiry Unix time from which the accreditation no longer counts.
    /// @param evidenceCid Digest of the accreditation document CID.
    function accreditInspector(address inspector, uint40 expiry, bytes32 evidenceCid) external;

    /// @notice Revokes an inspector's accreditation now. Certifier only.
    /// @param inspector The inspector.
    /// @param reasonCid Digest of the reason document CID.
    function revokeInspector(address inspector, bytes32 reasonCid) external;

    // ------------------------------------------------------------------ guardian, governance (restricted)

    /// @notice Suspends a partner from new awards. Guardian, instant; the bond and open orders are untouched.
    /// @param partner The partner.
    /// @param reasonCid Digest of the reason document CID.
    function suspend(address partner, bytes32 reasonCid) external;

    /// @notice Lifts a suspension. Governance (delayed).
    /// @param partner The partner.
    function reinstate(address partner) external;

    // ------------------------------------------------------------------------------------------- views

    /// @notice Reverts with the reason `partner` may not be awarded an order with these requirements
    /// (what an award checks before it locks the bond); returns if it may.
    /// @param partner The would-be partner.
    /// @param processes Required process bits.
    /// @param materials Required material bits.
    /// @param certIds Up to four required certification ids (uint32 each, lowest first, 0 = unused).
    function checkEligible(address partner, uint32 processes, uint64 materials, uint128 certIds) external view;

    /// @notice keccak256(abi.encode(PartnerProfile)) of the partner's current profile: what `vet` binds.
    /// @param partner The partner.
    /// @return The profile hash.
    function profileHash(address partner) external view returns (bytes32);

    /// @notice The part of the partner's bond no open order has locked.
    /// @param partner The partner.
    /// @return Wei.
    function freeBond(address partner) external view returns (uint256);

    /// @notice Whether `partner` holds certification `certId`, unexpired and unrevoked, at this block.
    /// @param partner The partner.
    /// @param certId The certification id.
    /// @return True if certified now.
    function isCertified(address partner, uint32 certId) external view returns (bool);

    /// @notice Expiry of a certification (0 if never granted, or revoked).
    /// @param partner The partner.
    /// @param certId The certification id.
    /// @return expiry Unix time.
    function certificationExpiry(address partner, uint32 certId) external view returns (uint40 expiry);

    /// @notice Expiry of an inspector's accreditation (0 if never accredited, or revoked).
    /// @param inspector The inspector.
    /// @return expiry Unix time.
    function inspectorExpiry(address inspector) external view returns (uint40 expiry);

    /// @notice Minimum registration bond, fixed at deploy.
    /// @return Wei.
    function minBond() external view returns (uint256);

    /// @notice Unbonding delay, fixed at deploy.
    /// @return Seconds.
    function unbondingDelay() external view returns (uint256);
}
