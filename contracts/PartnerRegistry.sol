// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {SharedRoles, ZeroAddress, sendEthToCaller} from "./Common.sol";
import {IPartnerRegistry} from "./interfaces/IPartnerRegistry.sol";
import {Outcome, PartnerInfo, PartnerProfile} from "./Types.sol";

/// @title PartnerRegistry
/// @notice Manufacturers register with an ETH bond; certifiers vet and certify them; governance can suspend
/// them; only the order book writes reputation. Nobody but the partner itself can move its bond.
contract PartnerRegistry is IPartnerRegistry, AccessControl, SharedRoles, ReentrancyGuardTransient {
    /// @notice Role that vets partners and grants or revokes certifications.
    bytes32 public constant CERTIFIER_ROLE = keccak256("CERTIFIER_ROLE");

    /// @notice Flag bit: the address is registered and bonded.
    uint8 public constant FLAG_REGISTERED = 1;
    /// @notice Flag bit: a certifier vetted the current capabilities.
    uint8 public constant FLAG_VETTED = 2;
    /// @notice Flag bit: governance suspended the partner (survives deregistration).
    uint8 public constant FLAG_SUSPENDED = 4;
    /// @notice Flag bit: the partner is unbonding.
    uint8 public constant FLAG_UNBONDING = 8;

    // Keys are suite-prefixed as pynode encodes them, so readers know the KEM from the bytes alone.
    bytes1 private constant X25519_SUITE = 0x01;
    bytes1 private constant XWING_SUITE = 0x02;
    uint256 private constant X25519_KEY_LENGTH = 33; // suite byte + X25519 public key (32)
    uint256 private constant XWING_KEY_LENGTH = 1217; // suite byte + ML-KEM-768 encapsulation key (1184) + X25519 (32)

    /// @inheritdoc IPartnerRegistry
    uint256 public immutable override minBond;
    /// @inheritdoc IPartnerRegistry
    uint256 public immutable override unbondingDelay;
    /// @inheritdoc IPartnerRegistry
    address public immutable override orderBook;

    mapping(address partner => PartnerInfo info) private _partners;
    mapping(address partner => mapping(uint32 certId => uint40 expiry)) private _certExpiry;

    /// @notice Deploys the registry bound to the order book that will be deployed at `orderBook_`.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants and revokes roles).
    /// @param orderBook_ The order book, the only reputation writer. Immutable, so the registry is deployed
    /// first with the order book's precomputed CREATE address (scripts/deploy.py): no admin can re-point it,
    /// and each reputation write saves a cold storage read.
    /// @param minBond_ Minimum registration bond in wei.
    /// @param unbondingDelay_ Seconds between `startUnbonding` and `withdrawBond`.
    constructor(address admin, address orderBook_, uint256 minBond_, uint256 unbondingDelay_) {
        if (admin == address(0) || orderBook_ == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
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

    /// @inheritdoc IPartnerRegistry
    function register(PartnerProfile calldata profile, bytes calldata encryptionKey) external payable {
        PartnerInfo storage p = _partners[msg.sender];
        uint8 flags = p.flags;
        if (flags & FLAG_REGISTERED != 0) revert AlreadyRegistered(msg.sender);
        if (msg.value < minBond) revert BondTooLow(msg.value, minBond);
        _checkKey(encryptionKey);
        // A suspension outlives deregistration, so re-registering cannot shed it; reputation is kept too.
        p.flags = FLAG_REGISTERED | (flags & FLAG_SUSPENDED);
        _setProfile(p, profile);
        p.bond = uint96(msg.value); // lossless: the ETH supply is far below 2^96 wei
        p.encryptionKeyHash = keccak256(encryptionKey);
        emit PartnerRegistered(msg.sender, profile, encryptionKey, msg.value);
    }

    /// @inheritdoc IPartnerRegistry
    function updateProfile(PartnerProfile calldata profile) external onlyRegistered(msg.sender) {
        PartnerInfo storage p = _partners[msg.sender];
        bool cleared = profile.capabilities != p.capabilities || profile.materials != p.materials;
        if (cleared) p.flags &= ~FLAG_VETTED; // new capabilities need a new vetting
        _setProfile(p, profile);
        emit PartnerProfileUpdated(msg.sender, profile, cleared);
    }

    /// @inheritdoc IPartnerRegistry
    function rotateEncryptionKey(bytes calldata encryptionKey) external onlyRegistered(msg.sender) {
        _checkKey(encryptionKey);
        _partners[msg.sender].encryptionKeyHash = keccak256(encryptionKey);
        emit EncryptionKeyRotated(msg.sender, encryptionKey);
    }

    /// @inheritdoc IPartnerRegistry
    function startUnbonding() external onlyRegistered(msg.sender) {
        PartnerInfo storage p = _partners[msg.sender];
        if (p.flags & FLAG_UNBONDING != 0) revert PartnerIsUnbonding(msg.sender);
        uint40 readyAt = uint40(block.timestamp + unbondingDelay);
        p.flags |= FLAG_UNBONDING;
        p.unbondingReadyAt = readyAt;
        emit UnbondingStarted(msg.sender, readyAt);
    }

    /// @inheritdoc IPartnerRegistry
    function withdrawBond() external nonReentrant {
        PartnerInfo storage p = _partners[msg.sender];
        if (p.flags & FLAG_UNBONDING == 0) revert NotUnbonding(msg.sender);
        uint40 readyAt = p.unbondingReadyAt;
        if (block.timestamp < readyAt) revert UnbondingNotElapsed(readyAt);
        uint256 amount = p.bond;
        p.flags &= FLAG_SUSPENDED;
        p.bond = 0;
        p.unbondingReadyAt = 0;
        emit BondWithdrawn(msg.sender, amount);
        sendEthToCaller(amount);
    }

    /// @inheritdoc IPartnerRegistry
    function vet(address partner, bytes32 evidenceCid) external onlyRole(CERTIFIER_ROLE) onlyRegistered(partner) {
        _partners[partner].flags |= FLAG_VETTED;
        emit PartnerVetted(partner, msg.sender, evidenceCid);
    }

    /// @inheritdoc IPartnerRegistry
    function certify(address partner, uint32 certId, uint40 expiry, bytes32 evidenceCid)
        external
        onlyRole(CERTIFIER_ROLE)
        onlyRegistered(partner)
    {
        if (certId == 0) revert InvalidCertId();
        if (expiry <= block.timestamp) revert ExpiryNotInFuture(expiry);
        _certExpiry[partner][certId] = expiry;
        emit CertificationGranted(partner, certId, msg.sender, expiry, evidenceCid);
    }

    /// @inheritdoc IPartnerRegistry
    function revokeCertification(address partner, uint32 certId, bytes32 reasonCid)
        external
        onlyRole(CERTIFIER_ROLE)
    {
        if (_certExpiry[partner][certId] <= block.timestamp) revert CertificationNotActive(partner, certId);
        delete _certExpiry[partner][certId];
        emit CertificationRevoked(partner, certId, msg.sender, reasonCid);
    }

    /// @inheritdoc IPartnerRegistry
    function suspend(address partner, bytes32 reasonCid) external onlyRole(GOVERNANCE_ROLE) onlyRegistered(partner) {
        PartnerInfo storage p = _partners[partner];
        if (p.flags & FLAG_SUSPENDED != 0) revert PartnerIsSuspended(partner);
        p.flags |= FLAG_SUSPENDED;
        emit PartnerSuspended(partner, msg.sender, reasonCid);
    }

    /// @inheritdoc IPartnerRegistry
    function reinstate(address partner) external onlyRole(GOVERNANCE_ROLE) {
        PartnerInfo storage p = _partners[partner];
        if (p.flags & FLAG_SUSPENDED == 0) revert PartnerNotSuspended(partner);
        p.flags &= ~FLAG_SUSPENDED;
        emit PartnerReinstated(partner, msg.sender);
    }

    /// @inheritdoc IPartnerRegistry
    function recordOutcome(address partner, Outcome outcome) external {
        if (msg.sender != orderBook) revert NotOrderBook(msg.sender);
        PartnerInfo storage p = _partners[partner];
        // Unchecked: each increment is one settled order, i.e. one transaction; 2^32 of them per partner
        // is out of reach, and a checked revert here would block settlement.
        unchecked {
            if (outcome == Outcome.CompletedOnTime) {
                ++p.completed;
                ++p.onTime;
            } else if (outcome == Outcome.CompletedLate) {
                ++p.completed;
            } else if (outcome == Outcome.FailedQa) {
                ++p.failedQa;
            } else {
                ++p.disputesLost;
            }
        }
    }

    /// @inheritdoc IPartnerRegistry
    function checkEligible(address partner, uint32 processes, uint64 materials, uint128 certIds) external view {
        PartnerInfo storage p = _partners[partner];
        uint8 flags = p.flags;
        if (flags & FLAG_REGISTERED == 0) revert NotRegistered(partner);
        if (flags & FLAG_SUSPENDED != 0) revert PartnerIsSuspended(partner);
        if (flags & FLAG_UNBONDING != 0) revert PartnerIsUnbonding(partner);
        if (flags & FLAG_VETTED == 0) revert NotVetted(partner);
        if (p.capabilities & processes != processes || p.materials & materials != materials) {
            revert CapabilityMismatch(partner, processes, materials);
        }
        // At most four ids are packed into certIds, so this loop is bounded.
        for (uint256 i; i < 4; ++i) {
            uint32 certId = uint32(certIds >> (32 * i));
            if (certId != 0 && _certExpiry[partner][certId] <= block.timestamp) {
                revert CertificationMissing(partner, certId);
            }
        }
    }

    /// @inheritdoc IPartnerRegistry
    function isCertified(address partner, uint32 certId) external view returns (bool) {
        return _certExpiry[partner][certId] > block.timestamp;
    }

    /// @inheritdoc IPartnerRegistry
    function certificationExpiry(address partner, uint32 certId) external view returns (uint40) {
        return _certExpiry[partner][certId];
    }

    /// @inheritdoc IPartnerRegistry
    function partnerInfo(address partner) external view returns (PartnerInfo memory) {
        return _partners[partner];
    }

    function _setProfile(PartnerInfo storage p, PartnerProfile calldata profile) private {
        p.capabilities = profile.capabilities;
        p.materials = profile.materials;
        p.region = profile.region;
        p.capacity = profile.capacity;
        p.profileCid = profile.profileCid;
    }

    function _checkKey(bytes calldata key) private pure {
        uint256 length = key.length;
        bool x25519 = length == X25519_KEY_LENGTH && key[0] == X25519_SUITE;
        bool xwing = length == XWING_KEY_LENGTH && key[0] == XWING_SUITE;
        if (!x25519 && !xwing) revert InvalidEncryptionKey(length);
    }
}
