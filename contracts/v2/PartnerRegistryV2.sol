// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

import {IPartnerRegistryV2} from "./interfaces/IPartnerRegistryV2.sol";
import {IPartnerSlots} from "./interfaces/IPartnerSlots.sol";
import {PartnerSlots} from "./libraries/PartnerSlots.sol";
import {Outcome, PartnerInfo, PartnerProfile, PartnerSlot} from "./Types.sol";

/// @title PartnerRegistryV2
/// @notice Manufacturers register with an ETH bond; awards lock part of it, completion releases it, a lost
/// dispute or abandonment slashes it to the order book for the buyer. Each partner's award slot (flags,
/// completion counters, capabilities, materials, free bond) is stored in the order book (`IPartnerSlots`), so
/// awards and completions never call the registry; this contract reads and writes it there and holds the
/// rest, with the bond ETH. Certifiers vet the profile they saw, certify partners and accredit inspectors;
/// the guardian suspends, governance reinstates (AccessManager, contracts/v2/README.md). Only the order book
/// moves locked bond and writes reputation; nobody but the partner moves its free bond.
contract PartnerRegistryV2 is IPartnerRegistryV2, AccessManaged {
    /// @notice Flag bit: the address is registered and bonded.
    uint8 public constant FLAG_REGISTERED = PartnerSlots.FLAG_REGISTERED;
    /// @notice Flag bit: a certifier vetted the current capabilities and materials.
    uint8 public constant FLAG_VETTED = PartnerSlots.FLAG_VETTED;
    /// @notice Flag bit: the guardian suspended the partner (survives deregistration).
    uint8 public constant FLAG_SUSPENDED = PartnerSlots.FLAG_SUSPENDED;
    /// @notice Flag bit: the partner is unbonding.
    uint8 public constant FLAG_UNBONDING = PartnerSlots.FLAG_UNBONDING;

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

    /// @dev What the registry stores of one partner; its `PartnerSlot` (everything an award reads and writes and
    /// a completion writes) is in the order book. Slot 0 holds the total bond (locked = bond − the slot's free
    /// bond), the rare outcomes and the unbonding time; then the profile's rest
    /// (tests/contracts/v2/test_registry_v2.py reads the slots). `partnerInfo` returns both as `PartnerInfo`.
    struct Partner {
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
    /// @param orderBook_ The order book, the only writer of locked bonds and reputation, and the store of every
    /// partner's `PartnerSlot`. Immutable, so the registry is deployed first with the book's precomputed CREATE
    /// address (scripts/deploy_v2.py): no admin can re-point it.
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
        _registeredSlot(partner);
        _;
    }

    modifier onlyOrderBook() {
        if (msg.sender != orderBook) revert NotOrderBook(msg.sender);
        _;
    }

    // ---------------------------------------------------------------------------------------- partners

    /// @inheritdoc IPartnerRegistryV2
    function register(PartnerProfile calldata profile, bytes calldata encryptionKey) external payable {
        PartnerSlot memory slot = _slot(msg.sender);
        uint8 flags = slot.flags;
        if (flags & FLAG_REGISTERED != 0) revert AlreadyRegistered(msg.sender);
        if (msg.value < minBond) revert BondTooLow(msg.value, minBond);
        _checkKey(encryptionKey);
        // A suspension outlives deregistration, so re-registering cannot shed it; reputation is kept too.
        slot.flags = FLAG_REGISTERED | (flags & FLAG_SUSPENDED);
        slot.free = uint96(msg.value); // nothing is locked: a deregistration needed locked = 0
        Partner storage p = _partners[msg.sender];
        _setProfile(p, slot, profile);
        p.bond = uint96(msg.value); // lossless: the ETH supply is far below 2^96 wei
        p.encryptionKeyHash = keccak256(encryptionKey);
        _store(msg.sender, slot);
        emit PartnerRegistered(msg.sender, profile, encryptionKey, msg.value);
    }

    /// @inheritdoc IPartnerRegistryV2
    function updateProfile(PartnerProfile calldata profile) external {
        PartnerSlot memory slot = _registeredSlot(msg.sender);
        bool cleared = profile.capabilities != slot.capabilities || profile.materials != slot.materials;
        if (cleared) slot.flags &= ~FLAG_VETTED; // new capabilities need a new vetting
        _setProfile(_partners[msg.sender], slot, profile);
        _store(msg.sender, slot);
        emit PartnerProfileUpdated(msg.sender, profile, cleared);
    }

    /// @inheritdoc IPartnerRegistryV2
    function rotateEncryptionKey(bytes calldata encryptionKey) external onlyRegistered(msg.sender) {
        _checkKey(encryptionKey);
        _partners[msg.sender].encryptionKeyHash = keccak256(encryptionKey);
        emit EncryptionKeyRotated(msg.sender, encryptionKey);
    }

    /// @inheritdoc IPartnerRegistryV2
    function addBond() external payable {
        PartnerSlot memory slot = _registeredSlot(msg.sender);
        if (msg.value == 0) revert ZeroBond();
        Partner storage p = _partners[msg.sender];
        uint96 bond = p.bond + uint96(msg.value); // the cast is lossless: the ETH supply is far below 2^96 wei
        p.bond = bond;
        // Unchecked: free <= bond, which just fitted.
        unchecked {
            slot.free += uint96(msg.value);
        }
        _store(msg.sender, slot);
        emit BondAdded(msg.sender, msg.value, bond);
    }

    /// @inheritdoc IPartnerRegistryV2
    function startUnbonding() external {
        PartnerSlot memory slot = _registeredSlot(msg.sender);
        if (slot.flags & FLAG_UNBONDING != 0) revert PartnerIsUnbonding(msg.sender);
        uint40 readyAt = uint40(block.timestamp + unbondingDelay);
        slot.flags |= FLAG_UNBONDING;
        _partners[msg.sender].unbondingReadyAt = readyAt;
        _store(msg.sender, slot);
        emit UnbondingStarted(msg.sender, readyAt);
    }

    /// @inheritdoc IPartnerRegistryV2
    function withdrawBond(address payable to) external {
        if (to == address(0)) revert ZeroAddress();
        PartnerSlot memory slot = _slot(msg.sender);
        if (slot.flags & FLAG_UNBONDING == 0) revert NotUnbonding(msg.sender);
        Partner storage p = _partners[msg.sender];
        uint40 readyAt = p.unbondingReadyAt;
        if (block.timestamp < readyAt) revert UnbondingNotElapsed(readyAt);
        uint96 amount = slot.free;
        uint96 locked = p.bond - amount; // free <= bond always
        bool deregistered = locked == 0;
        if (deregistered) {
            slot.flags &= FLAG_SUSPENDED;
            p.unbondingReadyAt = 0;
        } else if (amount == 0) {
            revert BondFullyLocked(msg.sender, locked);
        }
        p.bond = locked;
        slot.free = 0;
        _store(msg.sender, slot);
        emit BondWithdrawn(msg.sender, to, amount, deregistered);
        // Checks-effects-interactions: the bond and the free bond (in the book) are reduced first, so a
        // re-entering call finds nothing free.
        Address.sendValue(to, amount);
    }

    // ---------------------------------------------------------------------------- certifier (restricted)

    /// @inheritdoc IPartnerRegistryV2
    function vet(address partner, bytes32 seenProfileHash, bytes32 evidenceCid) external restricted {
        PartnerSlot memory slot = _registeredSlot(partner);
        bytes32 current = _profileHash(_partners[partner], slot);
        if (current != seenProfileHash) revert ProfileHashMismatch(partner, seenProfileHash, current);
        slot.flags |= FLAG_VETTED;
        _store(partner, slot);
        emit PartnerVetted(partner, msg.sender, current, evidenceCid);
    }

    /// @inheritdoc IPartnerRegistryV2
    function unvet(address partner, bytes32 reasonCid) external restricted {
        PartnerSlot memory slot = _slot(partner);
        if (slot.flags & FLAG_VETTED == 0) revert NotVetted(partner);
        slot.flags &= ~FLAG_VETTED;
        _store(partner, slot);
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
    function suspend(address partner, bytes32 reasonCid) external restricted {
        PartnerSlot memory slot = _registeredSlot(partner);
        if (slot.flags & FLAG_SUSPENDED != 0) revert PartnerIsSuspended(partner);
        slot.flags |= FLAG_SUSPENDED;
        _store(partner, slot);
        emit PartnerSuspended(partner, msg.sender, reasonCid);
    }

    /// @inheritdoc IPartnerRegistryV2
    function reinstate(address partner) external restricted {
        PartnerSlot memory slot = _slot(partner);
        if (slot.flags & FLAG_SUSPENDED == 0) revert PartnerNotSuspended(partner);
        slot.flags &= ~FLAG_SUSPENDED;
        _store(partner, slot);
        emit PartnerReinstated(partner, msg.sender);
    }

    // --------------------------------------------------------------------------- order book (immutable)

    /// @inheritdoc IPartnerRegistryV2
    function slashBond(address partner, uint96 amount, Outcome outcome) external onlyOrderBook {
        Partner storage p = _partners[partner];
        uint96 free = _slot(partner).free;
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
        PartnerSlots.checkEligible(IPartnerSlots(orderBook).partnerWord(partner), partner, processes, materials);
        _checkCertifications(partner, certIds);
    }

    /// @inheritdoc IPartnerRegistryV2
    function checkCertifications(address partner, uint128 certIds) external view {
        _checkCertifications(partner, certIds);
    }

    /// @inheritdoc IPartnerRegistryV2
    function profileHash(address partner) external view returns (bytes32) {
        return _profileHash(_partners[partner], _slot(partner));
    }

    /// @inheritdoc IPartnerRegistryV2
    function freeBond(address partner) external view returns (uint256) {
        return _slot(partner).free;
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
        PartnerSlot memory slot = _slot(partner);
        return PartnerInfo({
            flags: slot.flags,
            completed: slot.completed,
            onTime: slot.onTime,
            failedQa: p.failedQa,
            disputesLost: p.disputesLost,
            abandoned: p.abandoned,
            locked: p.bond - slot.free,
            capabilities: slot.capabilities,
            materials: slot.materials,
            bond: p.bond,
            unbondingReadyAt: p.unbondingReadyAt,
            region: p.region,
            capacity: p.capacity,
            profileCid: p.profileCid,
            encryptionKeyHash: p.encryptionKeyHash
        });
    }

    // ----------------------------------------------------------------------------------------- private

    /// @dev `partner`'s slot, read from the book.
    function _slot(address partner) private view returns (PartnerSlot memory) {
        return PartnerSlots.unpack(IPartnerSlots(orderBook).partnerWord(partner));
    }

    /// @dev `partner`'s slot; reverts `NotRegistered` unless the partner is registered.
    function _registeredSlot(address partner) private view returns (PartnerSlot memory slot) {
        slot = _slot(partner);
        if (slot.flags & FLAG_REGISTERED == 0) revert NotRegistered(partner);
    }

    /// @dev Writes `partner`'s slot back to the book (the immutable book, trusted: no untrusted code runs
    /// between a function's read and this write).
    function _store(address partner, PartnerSlot memory slot) private {
        IPartnerSlots(orderBook).setPartnerWord(partner, PartnerSlots.pack(slot));
    }

    function _checkCertifications(address partner, uint128 certIds) private view {
        // At most four ids are packed into certIds (the shift drops them one by one), so this loop is bounded.
        for (; certIds != 0; certIds >>= 32) {
            uint32 certId = uint32(certIds);
            if (certId != 0 && _certExpiry[partner][certId] <= block.timestamp) {
                revert CertificationMissing(partner, certId);
            }
        }
    }

    /// @dev Counts the outcomes the registry holds; completions are counted in the book's slot at release.
    function _record(Partner storage p, Outcome outcome) private {
        // Unchecked: 2^24 (16.7 M) outcomes of one kind for one partner means as many settled orders, each
        // escrowing a price (the bad ones also locking or losing a bond); a checked revert would instead block
        // the settlement that records it.
        unchecked {
            if (outcome == Outcome.FailedQa) {
                ++p.failedQa;
            } else if (outcome == Outcome.DisputeLost) {
                ++p.disputesLost;
            } else if (outcome == Outcome.Abandoned) {
                ++p.abandoned;
            }
        }
    }

    function _setProfile(Partner storage p, PartnerSlot memory slot, PartnerProfile calldata profile) private {
        slot.capabilities = profile.capabilities;
        slot.materials = profile.materials;
        p.region = profile.region;
        p.capacity = profile.capacity;
        p.profileCid = profile.profileCid;
    }

    function _profileHash(Partner storage p, PartnerSlot memory slot) private view returns (bytes32) {
        return keccak256(
            abi.encode(PartnerProfile(slot.capabilities, slot.materials, p.region, p.capacity, p.profileCid))
        );
    }

    function _checkKey(bytes calldata key) private pure {
        uint256 length = key.length;
        bool x25519 = length == X25519_KEY_LENGTH && key[0] == X25519_SUITE;
        bool xwing = length == XWING_KEY_LENGTH && key[0] == XWING_SUITE;
        if (!x25519 && !xwing) revert InvalidEncryptionKey(length);
    }
}
