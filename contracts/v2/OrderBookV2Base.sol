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

    /// @dev Byte offsets of the words `_word` reads in a calldata `Order` (12 terms words, then 8 state words).
    uint256 internal constant AT_BUYER = 0x00;
    uint256 internal constant AT_TOKEN = 0x20;
    uint256 internal constant AT_AWARD_DEADLINE = 0xa0;
    uint256 internal constant AT_FEE_BPS = 0x140;
    uint256 internal constant AT_STATUS = 0x180;
    uint256 internal constant AT_PARTNER = 0x1a0;
    uint256 internal constant AT_HEAD = 0x260;

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
    function _checkSpec(OrderTerms calldata terms, OrderSpec calldata spec) internal pure {
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

    /// @dev Stores `s` (with its head advanced by `kind`) as order `orderId`'s new state.
    function _advance(uint256 orderId, Order calldata order, OrderState memory s, Transition kind, bytes32 evidence)
        internal
    {
        s.head = OrderHashes.nextTransition(s.head, kind, msg.sender, evidence, uint40(block.timestamp));
        _orderHashes[orderId] = OrderHashes.hashOrder(order.terms, s); // terms checked by _load
    }

    /// @dev Reverts unless `order` is order `orderId`'s current value in status `status`.
    function _load(uint256 orderId, Order calldata order, OrderStatus status) internal view {
        if (OrderHashes.hashCalldata(order) != _orderHashes[orderId]) revert OrderMismatch(orderId);
        uint256 current = _word(order, AT_STATUS); // matched: a valid status
        if (current != uint256(status)) revert WrongStatus(orderId, OrderStatus(current));
    }

    /// @dev The word at byte `at` of an order `_load` matched, as it is: the stored hash is of a clean encoding,
    /// so the word fits its field and needs none of a checked calldata access's cleanup tests.
    function _word(Order calldata order, uint256 at) internal pure returns (uint256 word) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            word := calldataload(add(order, at))
        }
    }

    /// @dev Call after `_load`.
    function _onlyBuyer(Order calldata order) internal view {
        if (msg.sender != address(uint160(_word(order, AT_BUYER)))) revert CallerNotAllowed(msg.sender);
    }

    /// @dev Call after `_load`.
    function _onlyPartner(Order calldata order) internal view {
        if (msg.sender != address(uint160(_word(order, AT_PARTNER)))) revert CallerNotAllowed(msg.sender);
    }

    /// @dev The order's state with a new status (a memory copy to amend); call after `_load`.
    function _with(Order calldata order, OrderStatus status) internal pure returns (OrderState memory s) {
        // Assembly: `_load` matched the calldata order against a stored hash of a clean encoding, so its state
        // words are clean and are copied as they are, without field-by-field decoding. `s` is allocated above.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            calldatacopy(s, add(order, 0x180), 0x100) // state follows the 12 terms words
        }
        s.status = status;
    }
}
