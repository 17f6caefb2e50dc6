// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

import {IPartnerRegistryV2} from "./interfaces/IPartnerRegistryV2.sol";
import {Outcome, PartnerInfo, PartnerProfile} from "./Types.sol";

/// @title PartnerRegistryV2
/// @notice Manufacturers register with an ETH bond; awards lock part of it, completion releases it, a lost
/// dispute or abandonment slashes it to the order book for the buyer. Certifiers vet the profile they saw,
/// certify partners and accredit inspectors; the guardian suspends, governance reinstates (AccessManager,
/// contracts/v2/README.md). Only the order book moves locked bond and writes reputation; nobody but the
/// partner moves its free bond.
contract PartnerRegistryV2 is IPartnerRegistryV2, AccessManaged {
    /// @notice Flag bit: the address is registered and bonded.
    uint8 public constant FLAG_REGISTERED = 1;
    /// @notice Flag bit: a certifier vetted the current capabilities and materials.
    uint8 public constant FLAG_VETTED = 2;
    /// @notice Flag bit: the guardian suspended the partner (survives deregistration).
    uint8 public constant FLAG_SUSPENDED = 4;
    /// @notice Flag bit: the partner is unbonding.
    uint8 public constant FLAG_UNBONDING = 8;

    // The flags an award needs, out of the four it looks at: one comparison on the happy path.
    uint8 private constant AWARD_MASK = FLAG_REGISTERED | FLAG_VETTED | FLAG_SUSPENDED | FLAG_UNBONDING;
    uint8 private constant AWARDABLE = FLAG_REGISTERED | FLAG_VETTED;

    // Keys are suite-prefixed as pynode encodes them, so readers know the KEM from the bytes alone.
    bytes1 private constant X25519_SUITE = 0x01;
    bytes1 private constant XWING_SUITE = 0x02;
    uint256 private constant X25519_KEY_LENGTH = 33; // suite byte + X25519 public key (32)
    uint256 private constant XWING_KEY_LENGTH = 1217; // suite byte + ML-KEM-768 encapsulation key (1184) + X25519 (32)

    /// @inheritdoc IPartnerRegistryV2
    uint256 public immutable override minBond;
    /// @inheritdoc IPartnerRegistryV2
    uint256 public immutable override unbondingDelay;
    /// @inheritdoc IPartnerRegistryV2
    address public immutable override orderBook;

    /// @dev One partner as stored. Slot 0 is everything an award reads and writes (flags, capabilities,
    /// materials, the free bond) and what a completion writes (the free bond, the two completion counters):
    /// one cold slot per registry call on the happy path. Slot 1 holds the total bond (locked = bond − free),
    /// the rare outcomes and the unbonding time; then the profile's rest (tests/contracts/v2/test_registry_v2.py
    /// reads the slots). `partnerInfo` returns it as `PartnerInfo`.
    struct Partner {
        uint8 flags;
        uint24 completed;
        uint24 onTime;
        uint32 capabilities;
        uint64 materials;
        uint96 free; // bond not locked by open orders
        uint96 bond;
        uint24 failedQa;
        uint24 disputesLost;
        uint24 abandoned;
        uint40 unbondingReadyAt;
        bytes8 region;
        uint32 capacity;
        bytes32 profileCid;
        bytes32 encryptionKeyHash;
    }

    mapping(address partner => Partner info) private _partners;
    mapping(address partner => mapping(uint32 certId => uint40 expiry)) private _certExpiry;
    mapping(address inspector => uint40 expiry) private _inspectorExpiry;

    /// @notice Deploys the registry bound to the order book that will be deployed at `orderBook_`.
    /// @param initialAuthority The AccessManager that decides who calls each restricted function.
    /// @param orderBook_ The order book, the only writer of locked bonds and reputation. Immutable, so the
    /// registry is deployed first with the book's precomputed CREATE address (scripts/deploy_v2.py): no
    /// admin can re-point it, and each call from the book saves a cold storage read.
    /// @param minBond_ Minimum registration bond in wei.
    /// @param unbondingDelay_ Seconds between `startUnbonding` and `withdrawBond`.
    constructor(address initialAuthority, address orderBook_, uint256 minBond_, uint256 unbondingDelay_)
        AccessManaged(initialAuthority)
    {
        if (initialAuthority == address(0) || orderBook_ == address(0)) revert ZeroAddress();
        orderBook = orderBook_;
        minBond = minBond_;
        unbondingDelay = unbondingDelay_;
    }

    modifier onlyRegistered(address partner) {
        // The detector's field-insensitive taint links `flags` to unbondingReadyAt (a time) in the same struct.
        // slither-disable-next-line incorrect-equality — a bit test on the flags byte, not a balance or a time
        if (_partners[partner].flags & FLAG_REGISTERED == 0) revert NotRegistered(partner);
        _;
    }

    modifier onlyOrderBook() {
        if (msg.sender != orderBook) revert NotOrderBook(msg.sender);
        _;
    }

    // ---------------------------------------------------------------------------------------- partners

    /// @inheritdoc IPartnerRegistryV2
    function register(PartnerProfile calldata profile, bytes calldata encryptionKey) external payable {
        Partner storage p = _partners[msg.sender];
        uint8 flags = p.flags;
        if (flags & FLAG_REGISTERED != 0) revert AlreadyRegistered(msg.sender);
        if (msg.value < minBond) revert BondTooLow(msg.value, minBond);
        _checkKey(encryptionKey);
        // A suspension outlives deregistration, so re-registering cannot shed it; reputation is kept too.
        p.flags = FLAG_REGISTERED | (flags & FLAG_SUSPENDED);
        _setProfile(p, profile);
        p.bond = uint96(msg.value); // lossless: the ETH supply is far below 2^96 wei
        p.free = uint96(msg.value); // nothing is locked: a deregistration needed locked = 0
        p.encryptionKeyHash = keccak256(encryptionKey);
        emit PartnerRegistered(msg.sender, profile, encryptionKey, msg.value);
    }

    /// @inheritdoc IPartnerRegistryV2
    function updateProfile(PartnerProfile calldata profile) external onlyRegistered(msg.sender) {
        Partner storage p = _partners[msg.sender];
        bool cleared = profile.capabilities != p.capabilities || profile.materials != p.materials;
        if (cleared) p.flags &= ~FLAG_VETTED; // new capabilities need a new vetting
        _setProfile(p, profile);
        emit PartnerProfileUpdated(msg.sender, profile, cleared);
    }

    /// @inheritdoc IPartnerRegistryV2
    function rotateEncryptionKey(bytes calldata encryptionKey) external onlyRegistered(msg.sender) {
        _checkKey(encryptionKey);
        _partners[msg.sender].encryptionKeyHash = keccak256(encryptionKey);
        emit EncryptionKeyRotated(msg.sender, encryptionKey);
    }

    /// @inheritdoc IPartnerRegistryV2
    function addBond() external payable onlyRegistered(msg.sender) {
        if (msg.value == 0) revert ZeroBond();
        Partner storage p = _partners[msg.sender];
        uint96 bond = p.bond + uint96(msg.value); // the cast is lossless: the ETH supply is far below 2^96 wei
        p.bond = bond;
        // Unchecked: free <= bond, which just fitted.
        unchecked {
            p.free += uint96(msg.value);
        }
        emit BondAdded(msg.sender, msg.value, bond);
    }

    /// @inheritdoc IPartnerRegistryV2
    function startUnbonding() external onlyRegistered(msg.sender) {
        Partner storage p = _partners[msg.sender];
        if (p.flags & FLAG_UNBONDING != 0) revert PartnerIsUnbonding(msg.sender);
        uint40 readyAt = uint40(block.timestamp + unbondingDelay);
        p.flags |= FLAG_UNBONDING;
        p.unbondingReadyAt = readyAt;
        emit UnbondingStarted(msg.sender, readyAt);
    }

    /// @inheritdoc IPartnerRegistryV2
    function withdrawBond(address payable to) external {
        if (to == address(0)) revert ZeroAddress();
        Partner storage p = _partners[msg.sender];
        if (p.flags & FLAG_UNBONDING == 0) revert NotUnbonding(msg.sender);
        uint40 readyAt = p.unbondingReadyAt;
        if (block.timestamp < readyAt) revert UnbondingNotElapsed(readyAt);
        uint96 amount = p.free;
        uint96 locked = p.bond - amount; // free <= bond always
        bool deregistered = locked == 0;
        if (deregistered) {
            p.flags &= FLAG_SUSPENDED;
            p.unbondingReadyAt = 0;
        } else if (amount == 0) {
            revert BondFullyLocked(msg.sender, locked);
        }
        p.bond = locked;
        p.free = 0;
        emit BondWithdrawn(msg.sender, to, amount, deregistered);
        // Checks-effects-interactions: the bond is reduced first, so a re-entering call finds nothing free.
        Address.sendValue(to, amount);
    }

    // ---------------------------------------------------------------------------- certifier (restricted)

    /// @inheritdoc IPartnerRegistryV2
    function vet(address partner, bytes32 seenProfileHash, bytes32 evidenceCid)
        external
        restricted
        onlyRegistered(partner)
    {
        bytes32 current = _profileHash(_partners[partner]);
        if (current != seenProfileHash) revert ProfileHashMismatch(partner, seenProfileHash, current);
        _partners[partner].flags |= FLAG_VETTED;
        emit PartnerVetted(partner, msg.sender, current, evidenceCid);
    }

    /// @inheritdoc IPartnerRegistryV2
    function unvet(address partner, bytes32 reasonCid) external restricted {
        Partner storage p = _partners[partner];
        if (p.flags & FLAG_VETTED == 0) revert NotVetted(partner);
        p.flags &= ~FLAG_VETTED;
        emit PartnerUnvetted(partner, msg.sender, reasonCid);
    }

    /// @inheritdoc IPartnerRegistryV2
    function certify(address partner, uint32 certId, uint40 expiry, bytes32 evidenceCid)
        external
        restricted
        onlyRegistered(partner)
    {
        if (certId == 0) revert InvalidCertId();
        if (expiry <= block.timestamp) revert ExpiryNotInFuture(expiry);
        _certExpiry[partner][certId] = expiry;
        emit CertificationGranted(partner, certId, msg.sender, expiry, evidenceCid);
    }

    /// @inheritdoc IPartnerRegistryV2
    function revokeCertification(address partner, uint32 certId, bytes32 reasonCid) external restricted {
        if (_certExpiry[partner][certId] <= block.timestamp) revert CertificationNotActive(partner, certId);
        delete _certExpiry[partner][certId];
        emit CertificationRevoked(partner, certId, msg.sender, reasonCid);
    }

    /// @inheritdoc IPartnerRegistryV2
    function accreditInspector(address inspector, uint40 expiry, bytes32 evidenceCid) external restricted {
        if (inspector == address(0)) revert ZeroAddress();
        if (expiry <= block.timestamp) revert ExpiryNotInFuture(expiry);
        _inspectorExpiry[inspector] = expiry;
        emit InspectorAccredited(inspector, msg.sender, expiry, evidenceCid);
    }

    /// @inheritdoc IPartnerRegistryV2
    function revokeInspector(address inspector, bytes32 reasonCid) external restricted {
        if (_inspectorExpiry[inspector] <= block.timestamp) revert InspectorNotAccredited(inspector);
        delete _inspectorExpiry[inspector];
        emit InspectorRevoked(inspector, msg.sender, reasonCid);
    }

    // ------------------------------------------------------------------ guardian, governance (restricted)

    /// @inheritdoc IPartnerRegistryV2
    function suspend(address partner, bytes32 reasonCid) external restricted onlyRegistered(partner) {
        Partner storage p = _partners[partner];
        if (p.flags & FLAG_SUSPENDED != 0) revert PartnerIsSuspended(partner);
        p.flags |= FLAG_SUSPENDED;
        emit PartnerSuspended(partner, msg.sender, reasonCid);
    }

    /// @inheritdoc IPartnerRegistryV2
    function reinstate(address partner) external restricted {
        Partner storage p = _partners[partner];
        if (p.flags & FLAG_SUSPENDED == 0) revert PartnerNotSuspended(partner);
        p.flags &= ~FLAG_SUSPENDED;
        emit PartnerReinstated(partner, msg.sender);
    }

    // --------------------------------------------------------------------------- order book (immutable)

    /// @inheritdoc IPartnerRegistryV2
    function lockBond(address partner, uint96 amount, uint32 processes, uint64 materials, uint128 certIds)
        external
        onlyOrderBook
    {
        Partner storage p = _partners[partner];
        _checkEligible(p, partner, processes, materials, certIds);
        uint96 free = p.free;
        if (amount > free) revert BondUnavailable(partner, amount, free);
        // Unchecked: amount <= free (checked just above).
        unchecked {
            p.free = free - amount;
        }
        // No event: the book's award event carries the partner and the bond.
    }

    /// @inheritdoc IPartnerRegistryV2
    function releaseBond(address partner, uint96 amount, Outcome outcome) external onlyOrderBook {
        Partner storage p = _partners[partner];
        // Slot 0 only: the total bond (slot 1) is not read to bound this. The book is immutable and releases
        // exactly the bond its order commitment says it locked (the forge campaign's ghost ledger checks
        // locked = the sum over open orders); checked arithmetic still stops a free bond above 2^96.
        p.free += amount;
        _record(p, outcome);
    }

    /// @inheritdoc IPartnerRegistryV2
    function slashBond(address partner, uint96 amount, Outcome outcome) external onlyOrderBook {
        Partner storage p = _partners[partner];
        uint96 free = p.free;
        // Checked: slashing more than the locked part (bond − free) underflows; the free part is untouched.
        p.bond = free + ((p.bond - free) - amount);
        _record(p, outcome);
        // Checks-effects-interactions: the bond is reduced first. The book's receive() accepts only us.
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @inheritdoc IPartnerRegistryV2
    function recordOutcome(address partner, Outcome outcome) external onlyOrderBook {
        _record(_partners[partner], outcome);
    }

    // ------------------------------------------------------------------------------------------- views

    /// @inheritdoc IPartnerRegistryV2
    function checkEligible(address partner, uint32 processes, uint64 materials, uint128 certIds) external view {
        _checkEligible(_partners[partner], partner, processes, materials, certIds);
    }

    /// @inheritdoc IPartnerRegistryV2
    function profileHash(address partner) external view returns (bytes32) {
        return _profileHash(_partners[partner]);
    }

    /// @inheritdoc IPartnerRegistryV2
    function freeBond(address partner) external view returns (uint256) {
        return _partners[partner].free;
    }

    /// @inheritdoc IPartnerRegistryV2
    function isAccreditedInspector(address inspector) external view returns (bool) {
        return _inspectorExpiry[inspector] > block.timestamp;
    }

    /// @inheritdoc IPartnerRegistryV2
    function inspectorExpiry(address inspector) external view returns (uint40) {
        return _inspectorExpiry[inspector];
    }

    /// @inheritdoc IPartnerRegistryV2
    function isCertified(address partner, uint32 certId) external view returns (bool) {
        return _certExpiry[partner][certId] > block.timestamp;
    }

    /// @inheritdoc IPartnerRegistryV2
    function certificationExpiry(address partner, uint32 certId) external view returns (uint40) {
        return _certExpiry[partner][certId];
    }

    /// @inheritdoc IPartnerRegistryV2
    function partnerInfo(address partner) external view returns (PartnerInfo memory) {
        Partner storage p = _partners[partner];
        return PartnerInfo({
            flags: p.flags,
            completed: p.completed,
            onTime: p.onTime,
            failedQa: p.failedQa,
            disputesLost: p.disputesLost,
            abandoned: p.abandoned,
            locked: p.bond - p.free,
            capabilities: p.capabilities,
            materials: p.materials,
            bond: p.bond,
            unbondingReadyAt: p.unbondingReadyAt,
            region: p.region,
            capacity: p.capacity,
            profileCid: p.profileCid,
            encryptionKeyHash: p.encryptionKeyHash
        });
    }

    // ----------------------------------------------------------------------------------------- private

    function _checkEligible(
        Partner storage p,
        address partner,
        uint32 processes,
        uint64 materials,
        uint128 certIds
    ) private view {
        uint8 flags = p.flags;
        if (flags & AWARD_MASK != AWARDABLE) {
            if (flags & FLAG_REGISTERED == 0) revert NotRegistered(partner);
            if (flags & FLAG_SUSPENDED != 0) revert PartnerIsSuspended(partner);
            if (flags & FLAG_UNBONDING != 0) revert PartnerIsUnbonding(partner);
            revert NotVetted(partner);
        }
        if (p.capabilities & processes != processes || p.materials & materials != materials) {
            revert CapabilityMismatch(partner, processes, materials);
        }
        // At most four ids are packed into certIds (the shift drops them one by one), so this loop is bounded.
        for (; certIds != 0; certIds >>= 32) {
            uint32 certId = uint32(certIds);
            if (certId != 0 && _certExpiry[partner][certId] <= block.timestamp) {
                revert CertificationMissing(partner, certId);
            }
        }
    }

    function _record(Partner storage p, Outcome outcome) private {
        // Unchecked: 2^24 (16.7 M) outcomes of one kind for one partner means as many settled orders, each
        // escrowing a price (the bad ones also locking or losing a bond); a checked revert would instead block
        // the settlement that records it.
        unchecked {
            if (outcome == Outcome.CompletedOnTime) {
                ++p.completed;
                ++p.onTime;
            } else if (outcome == Outcome.CompletedLate) {
                ++p.completed;
            } else if (outcome == Outcome.FailedQa) {
                ++p.failedQa;
            } else if (outcome == Outcome.DisputeLost) {
                ++p.disputesLost;
            } else if (outcome == Outcome.Abandoned) {
                ++p.abandoned;
            }
        }
    }

    function _setProfile(Partner storage p, PartnerProfile calldata profile) private {
        p.capabilities = profile.capabilities;
        p.materials = profile.materials;
        p.region = profile.region;
        p.capacity = profile.capacity;
        p.profileCid = profile.profileCid;
    }

    function _profileHash(Partner storage p) private view returns (bytes32) {
        return keccak256(abi.encode(PartnerProfile(p.capabilities, p.materials, p.region, p.capacity, p.profileCid)));
    }

    function _checkKey(bytes calldata key) private pure {
        uint256 length = key.length;
        bool x25519 = length == X25519_KEY_LENGTH && key[0] == X25519_SUITE;
        bool xwing = length == XWING_KEY_LENGTH && key[0] == XWING_SUITE;
        if (!x25519 && !xwing) revert InvalidEncryptionKey(length);
    }
}
