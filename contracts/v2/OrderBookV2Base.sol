// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";

import {ZeroAddress} from "./Common.sol";
import {IOrderBookV2Disputes} from "./interfaces/IOrderBookV2Disputes.sol";
import {IPartnerRegistryV2} from "./interfaces/IPartnerRegistryV2.sol";
import {OrderHashes} from "./libraries/OrderHashes.sol";
import {PartnerSlots} from "./libraries/PartnerSlots.sol";
import {
    Order,
    OrderSpec,
    OrderState,
    OrderStatus,
    OrderTerms,
    Outcome,
    RecordKind,
    Transition
} from "./Types.sol";
import {Payouts} from "./utils/Payouts.sol";
import {SignatureVerifier} from "./utils/SignatureVerifier.sol";

/// @title OrderBookV2Base
/// @notice What `OrderBookV2` and its `OrderBookV2Disputes` extension share: bounds, storage (one layout,
/// as the extension runs by delegatecall in the book's storage) and the order-commitment helpers.
/// @dev Both contracts inherit exactly this chain and declare no storage of their own.
abstract contract OrderBookV2Base is IOrderBookV2Disputes, AccessManaged, SignatureVerifier, Payouts {
    /// @notice ERC-792 ruling options: ruling r in 1..101 gives the buyer (r − 1) % of the price.
    uint256 public constant RULING_OPTIONS = 101;
    /// @notice Seconds after a dispute in which the partner must match the arbitration fee.
    uint256 public constant FEE_RESPONSE_WINDOW = 3 days;
    /// @notice Upper bound of the protocol fee: 5 %.
    uint16 public constant MAX_FEE_BPS = 500;
    /// @notice Bounds of the reject window.
    uint32 public constant MIN_REJECT_WINDOW = 1 hours;
    /// @notice Upper bound of the reject window.
    uint32 public constant MAX_REJECT_WINDOW = 7 days;
    /// @notice Lower bound of the dispute timeout: above the fee response window, so a dispute is first
    /// given to the arbitrator.
    uint32 public constant MIN_DISPUTE_TIMEOUT = 7 days;
    /// @notice Upper bound of the dispute timeout.
    uint32 public constant MAX_DISPUTE_TIMEOUT = 90 days;
    /// @notice Upper bound of an order's inspection window.
    uint32 public constant MAX_INSPECTION_WINDOW = 90 days;
    /// @notice Most inspectors a spec may name.
    uint256 public constant MAX_INSPECTORS = 8;

    /// @notice The partner registry: eligibility, bonds and reputation.
    IPartnerRegistryV2 public immutable registry;

    /// @dev One slot: `post` checks the snapshots with a single cold access and writes nothing here (order ids
    /// derive from the terms, OrderHashes.orderIdOf).
    struct Params {
        uint16 feeBps;
        uint32 rejectWindow;
        uint32 disputeTimeout;
        bool paused;
    }

    /// @dev Status sets `_load` accepts: bit `status` set for each status allowed.
    uint256 internal constant OPEN = 1 << 1; // OrderStatus.Open
    uint256 internal constant AWARDED = 1 << 2; // OrderStatus.Awarded
    uint256 internal constant SHIPPED = 1 << 3; // OrderStatus.Shipped
    uint256 internal constant DISPUTED = 1 << 4; // OrderStatus.Disputed
    uint256 internal constant COMPLETED = 1 << 5; // OrderStatus.Completed

    Params internal _params;
    address internal _feeRecipient;

    mapping(uint256 orderId => bytes32 commitment) internal _orderHashes;
    mapping(uint256 orderId => bytes32 head) internal _recordHeads;
    // Written by the OrderBookV2Disputes extension, which runs in this storage (delegatecall).
    // slither-disable-next-line uninitialized-state
    mapping(uint256 orderId => Arbitration state) internal _arbitrations;
    mapping(address arbitrator => mapping(uint256 disputeId => uint256 orderId)) internal _disputeOrders;
    mapping(address token => bool allowed) internal _tokenAllowed;
    // The buyer and partner of each dispute created at an arbitrator, for `disputeParties` (a panel member
    // who is a party may not vote). Written with `_disputeOrders` by the extension.
    // slither-disable-next-line uninitialized-state
    mapping(address arbitrator => mapping(uint256 disputeId => address[2] parties)) internal _disputeParties;
    // Each partner's PartnerSlot as one word (PartnerSlots.pack): an award and a completion read and write it
    // here, not in the registry, which reads and writes it through IPartnerSlots.
    mapping(address partner => uint256 word) internal _partnerWords;

    /// @notice Binds the registry and the governing AccessManager; sets the first parameters.
    /// @param authority The OpenZeppelin AccessManager deciding who may call restricted functions.
    /// @param registry_ The partner registry.
    /// @param feeRecipient_ Receiver of fees and skimmed surplus.
    constructor(address authority, IPartnerRegistryV2 registry_, address feeRecipient_)
        AccessManaged(authority)
        SignatureVerifier("fabmesh OrderBook", "2")
    {
        if (address(registry_) == address(0) || feeRecipient_ == address(0)) revert ZeroAddress();
        registry = registry_;
        _feeRecipient = feeRecipient_;
        _params = Params({feeBps: 0, rejectWindow: 2 days, disputeTimeout: 30 days, paused: false});
    }

    /// @dev Genesis of both chains of order `orderId`.
    function _genesis(uint256 orderId) internal view returns (bytes32) {
        return OrderHashes.genesis(block.chainid, address(this), orderId);
    }

    function _surplusRecipient() internal view override returns (address) {
        return _feeRecipient;
    }

    /// @dev Reverts unless `spec` is the one the terms of a stored order commit to. The calldata is hashed as it
    /// is: `post` checked `terms.specHash` against a decoded (clean, canonical) encoding, so only those bytes
    /// match.
    function _checkSpec(OrderTerms memory terms, OrderSpec calldata spec) internal pure {
        bytes32 specHash = OrderHashes.hashSpec(spec);
        if (terms.specHash != specHash) revert SpecHashMismatch(terms.specHash, specHash);
    }

    /// @dev Unlocks `amount` of `partner`'s bond in its slot and counts `outcome` (None or a completion): one
    /// word read and written, no registry call.
    function _releaseBond(address partner, uint96 amount, Outcome outcome) internal {
        _partnerWords[partner] = PartnerSlots.release(_partnerWords[partner], amount, outcome);
    }

    /// @dev Extends order `orderId`'s record chain by `actor`'s record; the order's slot is untouched. The actor
    /// is who the record is of: the caller, or the inspector of a relayed attestation.
    function _record(uint256 orderId, RecordKind kind, address actor, bytes32 evidence) internal {
        bytes32 prev = _recordHeads[orderId];
        if (prev == 0) prev = _genesis(orderId);
        bytes32 head = OrderHashes.nextRecord(prev, kind, actor, evidence, uint40(block.timestamp));
        _recordHeads[orderId] = head;
        emit Recorded(orderId, kind, actor, evidence, head);
    }

    /// @dev Stores order `orderId` with its state's status `status` and its head advanced by `kind`: `o` as
    /// `_load` gave it, its state amended in place (every caller reads only unchanged fields afterwards).
    function _advance(uint256 orderId, Order memory o, OrderStatus status, Transition kind, bytes32 evidence)
        internal
    {
        OrderState memory s = o.state;
        s.status = status;
        s.head = OrderHashes.nextTransition(s.head, kind, msg.sender, evidence, uint40(block.timestamp));
        _orderHashes[orderId] = OrderHashes.hashOrder(o.terms, s);
    }

    /// @dev `_match`, typed to give the order as the memory `Order` it is (OrderHashes.unpackOrder: one allocation
    /// written field by field, where a function returning `Order memory` would allocate and zero one first).
    /// Call it as `_load()(packed, statuses)`.
    function _load()
        internal
        pure
        returns (function(bytes32[8] calldata, uint256) internal view returns (uint256, bytes32, Order memory) load)
    {
        function(bytes32[8] calldata, uint256) internal view returns (uint256, bytes32, uint256) raw = _match;
        // Assembly: the same internal function, its third return (a memory address) typed as the `Order` there.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            load := raw
        }
    }

    /// @dev The order a packed `Order` holds (the memory address of its `Order`), its id (derived from its terms,
    /// as at post) and its terms hash; reverts unless it is that order's stored value, in one of the `statuses`
    /// (a set of the constants above).
    function _match(bytes32[8] calldata packed, uint256 statuses)
        internal
        view
        returns (uint256 orderId, bytes32 termsHash, uint256 order)
    {
        order = OrderHashes.unpackOrder(packed);
        bytes32 commitment;
        uint256 status;
        // Assembly: the terms and the state are one image right after the two pointers (unpackOrder).
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let t := add(order, 0x40)
            termsHash := keccak256(t, 0x180)
            commitment := keccak256(t, 0x280)
            status := mload(add(t, 0x180))
        }
        orderId = OrderHashes.orderIdOf(termsHash);
        if (commitment != _orderHashes[orderId]) revert OrderMismatch(orderId);
        // matched: a valid status
        if ((1 << status) & statuses == 0) revert WrongStatus(orderId, OrderStatus(status));
    }

    /// @dev Call after `_load`.
    function _onlyBuyer(Order memory o) internal view {
        if (msg.sender != o.terms.buyer) revert CallerNotAllowed(msg.sender);
    }

    /// @dev Call after `_load`.
    function _onlyPartner(Order memory o) internal view {
        if (msg.sender != o.state.partner) revert CallerNotAllowed(msg.sender);
    }
}
