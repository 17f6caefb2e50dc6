// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";

import {OrderBookV2} from "contracts/v2/OrderBookV2.sol";
import {PartnerRegistryV2} from "contracts/v2/PartnerRegistryV2.sol";
import {IOrderBookV2Disputes} from "contracts/v2/interfaces/IOrderBookV2Disputes.sol";
import {OrderHashes} from "contracts/v2/libraries/OrderHashes.sol";
import {Splits} from "contracts/v2/libraries/Splits.sol";
import {
    Attestation,
    Order,
    OrderDocs,
    OrderSpec,
    OrderState,
    OrderStatus,
    OrderTerms,
    PartnerInfo,
    Quote,
    RecordKind,
    Settlement,
    Transition
} from "contracts/v2/Types.sol";
import {CampaignToken} from "./utils/CampaignToken.sol";
import {EthRefuser, TestArbitrator} from "./utils/TestArbitrator.sol";
import {VM} from "./utils/Vm.sol";

/// @notice The campaign's only target: every call picks an order and an actor (the right one three times in
/// four, else anyone), calls the book, registry or manager as that actor and mirrors every effect the call
/// must have in its model: each order as the book committed it, and a ghost ledger of every credit and
/// payout per recipient, every bond and reputation counter. A call that succeeds where the model says it
/// must not, or whose effect differs from the model's, is counted in `violations` (the invariants read it).
contract OrderBookV2Handler {
    uint256 internal constant GOVERNANCE_DELAY = 2 days;
    uint64 internal constant GOVERNANCE = 1;
    uint16 internal constant BPS = 10_000;

    OrderBookV2 public immutable book;
    PartnerRegistryV2 public immutable registry;
    AccessManager public immutable manager;
    TestArbitrator public immutable arbitrator;
    CampaignToken public immutable token;
    address public immutable gov;
    address public immutable guardian;
    address public immutable certifier;
    address internal immutable _feeRecipient0;

    // actors: keys, so any of them can sign (quotes, settlements, attestations)
    uint256[] internal _buyerKeys;
    uint256[] internal _partnerKeys;
    uint256[] internal _inspectorKeys; // [0] accredited and named, [1] named only, [2] accredited, not named
    address[] public accounts; // every address that may ever hold a credit or be paid
    mapping(address partner => address payee) public payeeOf;

    // the model
    Order[] internal _orders;
    uint256[] internal _ids; // the book's id of _orders[i]: the terms hash's top 192 bits
    mapping(uint256 orderId => uint256 slot) internal _slotOf; // index in _orders + 1
    OrderSpec internal _spec;
    OrderDocs internal _docs;
    mapping(uint256 orderId => uint256 disputeId) public disputeIdOf;
    mapping(uint256 orderId => uint256 count) public terminalTransitions;
    mapping(uint256 orderId => bool) public failedQaCounted;
    mapping(address account => mapping(address token => uint256 amount)) public ghostCredit;
    mapping(address account => mapping(address token => uint256 amount)) public ghostPaid;
    mapping(address partner => uint256 amount) public ghostLocked;
    mapping(address partner => uint256[5] counts) internal _ghostReputation; // completed onTime failedQa lost abandoned
    mapping(bytes32 operation => uint256 scheduledAt) internal _scheduled;
    bytes[] internal _governanceCalls;

    /// @dev A resolution as the model applies it; `depositTo`: 0 buyer, 1 partner, 2 halves (the partner
    /// gets the rounded-down half); `held`: the deposits the book held before the call.
    struct Resolution {
        Transition kind;
        uint96 share;
        bool bondToBuyer;
        uint8 depositTo;
        uint256 held;
        address feeTo;
    }

    uint256 public violations;
    string public firstViolation;
    uint256 public calls;
    mapping(bytes32 action => uint256 count) public successes;

    constructor(
        OrderBookV2 book_,
        PartnerRegistryV2 registry_,
        AccessManager manager_,
        TestArbitrator arbitrator_,
        CampaignToken token_,
        address gov_,
        address guardian_,
        address certifier_
    ) {
        book = book_;
        registry = registry_;
        manager = manager_;
        arbitrator = arbitrator_;
        token = token_;
        gov = gov_;
        guardian = guardian_;
        certifier = certifier_;
        _feeRecipient0 = book_.feeRecipient();
        for (uint256 i; i < 3; ++i) {
            _buyerKeys.push(0xB0 + i);
            _partnerKeys.push(0xA0 + i);
            _inspectorKeys.push(0xC0 + i);
        }
        address refuser = address(new EthRefuser());
        for (uint256 i; i < 3; ++i) {
            accounts.push(VM.addr(_buyerKeys[i]));
            accounts.push(VM.addr(_partnerKeys[i]));
            accounts.push(VM.addr(_inspectorKeys[i]));
        }
        // partner 0 is paid itself, partner 1 at another EOA, partner 2 at a contract refusing ETH
        payeeOf[VM.addr(_partnerKeys[0])] = VM.addr(_partnerKeys[0]);
        payeeOf[VM.addr(_partnerKeys[1])] = address(0xFEE1);
        payeeOf[VM.addr(_partnerKeys[2])] = refuser;
        accounts.push(address(0xFEE1));
        accounts.push(refuser);
        accounts.push(book.feeRecipient());
        accounts.push(address(0xFEE2)); // governance may move the fee recipient here
        accounts.push(gov);
        accounts.push(guardian);
        accounts.push(certifier);
        accounts.push(address(0xBAD)); // an outsider
        address[] memory inspectors = new address[](2);
        inspectors[0] = VM.addr(_inspectorKeys[0]);
        inspectors[1] = VM.addr(_inspectorKeys[1]);
        _docs = OrderDocs(keccak256("design"), keccak256("plain"), keccak256("spec"), bytes8("u4pruyd"));
        _spec = OrderSpec(1, 1, 0, inspectors, keccak256(abi.encode(_docs)));
    }

    // -------------------------------------------------------------------------------- views for invariants

    function orderCount() external view returns (uint256) {
        return _orders.length;
    }

    function order(uint256 orderId) external view returns (Order memory) {
        return _orders[_slotOf[orderId] - 1];
    }

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    function partner(uint256 i) public view returns (address) {
        return VM.addr(_partnerKeys[i]);
    }

    function ghostReputation(address p) external view returns (uint256[5] memory) {
        return _ghostReputation[p];
    }

    /// @notice The model's totals in one pass (the invariant runs after every call, so it reads them once).
    struct Totals {
        uint256[2] credits; // the book's credits summed over every account: [ETH, token]
        uint256[2] escrow; // what live orders escrow: prices by token, plus ETH dispute deposits held
        bool creditsMatchGhost; // every account's credit equals the ghost ledger's
        bool terminalOnce; // every order settled at most once, exactly when its status is terminal
        uint256[3] lockedByOrders; // per partner: bonds of its Awarded, Shipped and Disputed orders
    }

    function totals() external view returns (Totals memory t) {
        t.creditsMatchGhost = true;
        address[2] memory tokens = [address(0), address(token)];
        for (uint256 i; i < accounts.length; ++i) {
            for (uint256 k; k < 2; ++k) {
                uint256 c = book.credits(accounts[i], tokens[k]);
                t.credits[k] += c;
                if (c != ghostCredit[accounts[i]][tokens[k]]) t.creditsMatchGhost = false;
            }
        }
        t.terminalOnce = true;
        address[3] memory partners = [partner(0), partner(1), partner(2)];
        for (uint256 i; i < _orders.length; ++i) {
            Order storage o = _orders[i];
            OrderStatus s = o.state.status;
            uint256 k = o.terms.token == address(0) ? 0 : 1;
            if (s == OrderStatus.Open) t.escrow[k] += o.terms.price;
            if (s >= OrderStatus.Awarded && s <= OrderStatus.Disputed) {
                t.escrow[k] += o.state.price;
                for (uint256 p; p < 3; ++p) {
                    if (o.state.partner == partners[p]) t.lockedByOrders[p] += o.state.bond;
                }
            }
            if (s == OrderStatus.Completed) {
                // the fee stays in the book until collectFees
                (,, uint96 fee) = Splits.split(o.state.price, 0, o.terms.feeBps);
                t.escrow[k] += fee;
            }
            if (s == OrderStatus.Disputed) t.escrow[0] += book.arbitration(_ids[i]).refundable;
            uint256 settled = terminalTransitions[_ids[i]];
            if (settled > 1 || (s >= OrderStatus.Completed) != (settled == 1)) t.terminalOnce = false;
        }
    }

    // ------------------------------------------------------------------------------------------ buyers

    function post(uint256 seed, uint96 price, uint96 minBond, uint32 windows, bool useToken) external {
        _count();
        uint256 buyerKey = _buyerKeys[seed % 3];
        (OrderTerms memory t, uint256 value) = _terms(VM.addr(buyerKey), price, minBond, windows, useToken);
        address actor = _actor(_mix(seed, 8), t.buyer);
        VM.prank(actor);
        try book.post{value: value}(t, _spec, _docs) returns (uint256 id) {
            _expect(actor == t.buyer && !book.paused(), "post by a non-buyer or while paused");
            _expect(id == uint256(keccak256(abi.encode(t))) >> 64, "order id not derived from the terms");
            OrderState memory s;
            s.status = OrderStatus.Open;
            s.head = OrderHashes.nextTransition(
                book.genesis(id), Transition.Posted, actor, keccak256(abi.encode(t)), uint40(block.timestamp)
            );
            _push(id, Order(t, s));
            _checkCommitted(id);
            successes["post"]++;
        } catch {}
    }

    function postAwarded(uint256 seed, uint96 price, uint96 minBond, uint32 windows, bool useToken, uint256 qSeed)
        external
    {
        _count();
        (OrderTerms memory t, uint256 value) =
            _terms(VM.addr(_buyerKeys[seed % 3]), price, minBond, windows, useToken);
        (Quote memory q, bytes memory sig, uint256 signer) = _quote(t, qSeed);
        address actor = _actor(_mix(seed, 8), t.buyer);
        uint256 id = uint256(keccak256(abi.encode(t))) >> 64;
        bytes32 genesis = book.genesis(id);
        VM.prank(actor);
        try book.postAwarded{value: value}(t, _spec, _docs, _packedQuote(q), sig, keccak256("envelope")) returns (uint256 got) {
            _expect(got == id, "order id not derived from the terms");
            _push(id, Order(t, OrderState(OrderStatus.Open, address(0), address(0), 0, 0, 0, 0, genesis)));
            _afterAward(id, actor, q, signer);
            successes["postAwarded"]++;
        } catch {}
    }

    function award(uint256 seed, uint256 qSeed) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        (Quote memory q, bytes memory sig, uint256 signer) = _quote(o.terms, qSeed);
        address actor = _actor(_mix(seed, 16), o.terms.buyer);
        VM.prank(actor);
        try book.award(_packed(o), _spec, _packedQuote(q), sig, keccak256("envelope")) {
            _expect(o.state.status == OrderStatus.Open, "award of an order not open");
            _expect(block.timestamp <= o.terms.awardDeadline, "award after the award deadline");
            _afterAward(id, actor, q, signer);
            successes["award"]++;
        } catch {}
    }

    function cancel(uint256 seed) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        address actor = _actor(_mix(seed, 16), o.terms.buyer);
        VM.prank(actor);
        try book.cancel(_packed(o)) {
            _expect(actor == o.terms.buyer && o.state.status == OrderStatus.Open, "cancel by a non-buyer or not open");
            _ghost(o.terms.buyer, o.terms.token, o.terms.price);
            _transition(id, OrderStatus.Cancelled, Transition.Cancelled, actor, 0, true);
            successes["cancel"]++;
        } catch {}
    }

    function confirm(uint256 seed) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        address actor = _actor(_mix(seed, 16), o.terms.buyer);
        uint256 payeeBefore = _balance(o.state.payee, o.terms.token);
        VM.prank(actor);
        try book.confirm(_packed(o)) {
            _expect(actor == o.terms.buyer && o.state.status == OrderStatus.Shipped, "confirm by a non-buyer");
            _completed(id, o, actor, Transition.Confirmed, payeeBefore);
            successes["confirm"]++;
        } catch {}
    }

    function dispute(uint256 seed, bool rightFee) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        address actor = _actor(_mix(seed, 16), o.terms.buyer);
        uint256 cost = arbitrator.cost();
        uint256 value = rightFee ? cost : cost + 1;
        VM.prank(actor);
        try book.dispute{value: value}(_packed(o), keccak256("evidence")) {
            _expect(actor == o.terms.buyer && o.state.status == OrderStatus.Shipped, "dispute by a non-buyer");
            _expect(block.timestamp <= uint256(o.state.stamp) + o.terms.inspectionWindow, "dispute after the window");
            _expect(value == cost, "dispute with the wrong fee");
            Order storage m = _orders[_slotOf[id] - 1];
            m.state.stamp = uint40(block.timestamp);
            _transition(id, OrderStatus.Disputed, Transition.Disputed, actor, keccak256("evidence"), false);
            successes["dispute"]++;
        } catch {}
    }

    // ------------------------------------------------------------------------------------------ partners

    function reject(uint256 seed) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        address actor = _actor(_mix(seed, 16), o.state.partner);
        VM.prank(actor);
        try book.reject(_packed(o), keccak256("reason")) {
            _expect(actor == o.state.partner && o.state.status == OrderStatus.Awarded, "reject by a non-partner");
            _expect(block.timestamp <= uint256(o.state.stamp) + o.terms.rejectWindow, "reject after the window");
            _ghost(o.terms.buyer, o.terms.token, o.state.price);
            _unlock(o.state.partner, o.state.bond);
            _transition(id, OrderStatus.Rejected, Transition.Rejected, actor, keccak256("reason"), true);
            successes["reject"]++;
        } catch {}
    }

    function ship(uint256 seed) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        address actor = _actor(_mix(seed, 16), o.state.partner);
        VM.prank(actor);
        try book.ship(_packed(o), keccak256("report"), keccak256("report bytes")) {
            _expect(actor == o.state.partner && o.state.status == OrderStatus.Awarded, "ship by a non-partner");
            _orders[_slotOf[id] - 1].state.stamp = uint40(block.timestamp);
            bytes32 evidence = OrderHashes.reportEvidence(keccak256("report"), keccak256("report bytes"), true);
            _transition(id, OrderStatus.Shipped, Transition.Shipped, actor, evidence, false);
            successes["ship"]++;
        } catch {}
    }

    function recordSerials(uint256 seed) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        address actor = _actor(_mix(seed, 16), o.state.partner);
        VM.prank(actor);
        try book.recordSerials(_packed(o), keccak256("serials")) {
            _expect(actor == o.state.partner && o.state.status == OrderStatus.Awarded, "serials by a non-partner");
            _expect(block.timestamp <= o.state.dueBy, "serials after the due time");
            _checkCommitted(id); // a record never changes the order's slot
            successes["recordSerials"]++;
        } catch {}
    }

    function payArbitrationFee(uint256 seed) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        address actor = _actor(_mix(seed, 16), o.state.partner);
        IOrderBookV2Disputes.Arbitration memory a = book.arbitration(id);
        uint256 cost = arbitrator.cost();
        uint256 arbitratorBefore = address(arbitrator).balance;
        VM.prank(actor);
        try book.payArbitrationFee{value: a.buyerFee}(_packed(o)) {
            _expect(actor == o.state.partner && o.state.status == OrderStatus.Disputed, "fee paid by a non-partner");
            _expect(!a.created && block.timestamp <= uint256(o.state.stamp) + 3 days, "fee paid late or twice");
            _expect(address(arbitrator).balance == arbitratorBefore + cost, "arbitrator not paid its cost");
            disputeIdOf[id] = arbitrator.count();
            _checkCommitted(id);
            successes["payArbitrationFee"]++;
        } catch {}
    }

    // ------------------------------------------------------------------------------------------ anyone

    function finalize(uint256 seed) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        address actor = _anyone(_mix(seed, 16));
        uint256 payeeBefore = _balance(o.state.payee, o.terms.token);
        VM.prank(actor);
        try book.finalize(_packed(o)) {
            _expect(o.state.status == OrderStatus.Shipped, "finalize of an order not shipped");
            _expect(block.timestamp > uint256(o.state.stamp) + o.terms.inspectionWindow, "finalize in the window");
            _completed(id, o, actor, Transition.Finalized, payeeBefore);
            successes["finalize"]++;
        } catch {}
    }

    function collectFees(uint256 seed) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        // three times in four, the first completed order from the picked one (completions are rare on a random
        // pick); else the picked order, whatever its status
        for (uint256 j; j < _orders.length && seed % 4 != 0; ++j) {
            uint256 i = (seed + j) % _orders.length;
            if (_orders[i].state.status == OrderStatus.Completed) {
                (id, o) = (_ids[i], _orders[i]);
                break;
            }
        }
        address actor = _anyone(_mix(seed, 16));
        address feeTo = book.feeRecipient();
        bytes32[8][] memory orders = new bytes32[8][](1);
        orders[0] = _packed(o);
        VM.prank(actor);
        try book.collectFees(orders) {
            _expect(o.state.status == OrderStatus.Completed, "fee collected from an order not completed");
            (,, uint96 fee) = Splits.split(o.state.price, 0, o.terms.feeBps);
            if (fee == 0) {
                _checkCommitted(id); // nothing to collect: skipped, still Completed (no transition without a log)
            } else {
                _ghost(feeTo, o.terms.token, fee);
                _transition(id, OrderStatus.FeeCollected, Transition.FeeCollected, actor, bytes32(uint256(fee)), false);
            }
            successes["collectFees"]++;
        } catch {}
    }

    function refund(uint256 seed) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        address actor = _anyone(_mix(seed, 16));
        VM.prank(actor);
        try book.refund(_packed(o)) {
            if (o.state.status == OrderStatus.Open) {
                _expect(block.timestamp > o.terms.awardDeadline, "refund before the award deadline");
                _ghost(o.terms.buyer, o.terms.token, o.terms.price);
                _transition(id, OrderStatus.Refunded, Transition.Refunded, actor, 0, true);
            } else {
                _expect(o.state.status == OrderStatus.Awarded, "refund of an order neither open nor awarded");
                _expect(block.timestamp > o.state.dueBy, "refund before the due time");
                _ghost(o.terms.buyer, o.terms.token, o.state.price);
                _ghost(o.terms.buyer, address(0), o.state.bond);
                _slash(o.state.partner, o.state.bond, 4);
                _transition(id, OrderStatus.Refunded, Transition.Refunded, actor, bytes32(uint256(1)), true);
            }
            successes["refund"]++;
        } catch {}
    }

    function claimDefault(uint256 seed) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        address actor = _anyone(_mix(seed, 16));
        IOrderBookV2Disputes.Arbitration memory a = book.arbitration(id);
        address feeTo = book.feeRecipient();
        VM.prank(actor);
        try book.claimDefault(_packed(o)) {
            _expect(o.state.status == OrderStatus.Disputed && !a.created, "default of a created dispute");
            _expect(block.timestamp > uint256(o.state.stamp) + 3 days, "default inside the fee window");
            _resolved(id, o, actor, Resolution(Transition.DisputeDefaulted, o.state.price, true, 0, a.refundable, feeTo));
            successes["claimDefault"]++;
        } catch {}
    }

    /// @notice The arbitrator rules (any value); an outsider calling the book's `rule` itself must fail.
    function rule(uint256 seed, uint256 ruling, bool outsider) external {
        _count();
        (uint256 id,) = _pick(seed);
        if (id == 0) return;
        uint256 disputeId = disputeIdOf[id];
        ruling = ruling % 104;
        if (outsider) {
            VM.prank(_anyone(_mix(seed, 16)));
            try book.rule(disputeId, ruling) {
                _violation("rule by an account that is not the arbitrator");
            } catch {}
            return;
        }
        if (disputeId == 0) return;
        bool ruledBefore = book.arbitration(id).ruled;
        try arbitrator.giveRuling(disputeId, ruling) {
            _expect(!ruledBefore && ruling <= 101, "ruled twice or out of range");
            _checkCommitted(id); // a ruling is stored, not applied
            successes["rule"]++;
        } catch {}
    }

    function executeRuling(uint256 seed) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        address actor = _anyone(_mix(seed, 16));
        IOrderBookV2Disputes.Arbitration memory a = book.arbitration(id);
        address feeTo = book.feeRecipient();
        VM.prank(actor);
        try book.executeRuling(_packed(o)) {
            _expect(o.state.status == OrderStatus.Disputed && a.ruled, "ruling executed before it was given");
            uint96 price = o.state.price;
            if (a.ruling == 0) {
                _resolved(id, o, actor, Resolution(Transition.Ruled, price / 2, false, 2, a.refundable, feeTo));
            } else {
                uint96 share = uint96((uint256(price) * (a.ruling - 1)) / 100);
                uint256 twice = uint256(share) * 2;
                uint8 to = twice > price ? 0 : (twice < price ? 1 : 2);
                _resolved(id, o, actor, Resolution(Transition.Ruled, share, twice > price, to, a.refundable, feeTo));
            }
            successes["executeRuling"]++;
        } catch {}
    }

    function settleExpired(uint256 seed) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        address actor = _anyone(_mix(seed, 16));
        IOrderBookV2Disputes.Arbitration memory a = book.arbitration(id);
        address feeTo = book.feeRecipient();
        VM.prank(actor);
        try book.settleExpired(_packed(o)) {
            _expect(o.state.status == OrderStatus.Disputed && a.created && !a.ruled, "expiry of a ruled dispute");
            _expect(block.timestamp > uint256(o.state.stamp) + o.terms.disputeTimeout, "expiry before the timeout");
            _resolved(id, o, actor, Resolution(Transition.DisputeExpired, o.state.price / 2, false, 2, a.refundable, feeTo));
            successes["settleExpired"]++;
        } catch {}
    }

    /// @notice One party settles with the other's signature (or, one time in four, a third party's).
    function settle(uint256 seed, uint96 share, bool bondToBuyer, bool byPartner) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0 || o.state.partner == address(0)) return;
        share = uint96(share % (uint256(o.state.price) + 2)); // one value above the price: Splits refuses it
        (Settlement memory st, bytes memory sig, address signer) = _settlement(id, o, seed, share, bondToBuyer, byPartner);
        address actor = _actor(_mix(seed, 16), byPartner ? o.state.partner : o.terms.buyer);
        IOrderBookV2Disputes.Arbitration memory a = book.arbitration(id);
        Resolution memory r =
            Resolution(Transition.Settled, share, bondToBuyer, a.created ? 2 : 0, a.refundable, book.feeRecipient());
        VM.prank(actor);
        try book.settle(_packed(o), st, sig) {
            bool parties = (actor == o.terms.buyer && signer == o.state.partner)
                || (actor == o.state.partner && signer == o.terms.buyer);
            _expect(parties, "settled without both parties");
            _expect(o.state.status == OrderStatus.Shipped || o.state.status == OrderStatus.Disputed, "settle status");
            _resolved(id, o, actor, r);
            successes["settle"]++;
        } catch {}
    }

    function _settlement(uint256 id, Order memory o, uint256 seed, uint96 share, bool bondToBuyer, bool byPartner)
        internal
        view
        returns (Settlement memory st, bytes memory sig, address signer)
    {
        st = Settlement(id, share, bondToBuyer, uint40(block.timestamp + 1 days));
        uint256 otherKey = byPartner ? _keyOf(o.terms.buyer) : _keyOf(o.state.partner);
        if (_mix(seed, 24) % 4 == 0) otherKey = _partnerKeys[_mix(seed, 28) % 3];
        sig = _sign(otherKey, book.settlementDigest(st));
        signer = VM.addr(otherKey);
    }

    /// @notice An inspector attests, itself or by a signature anyone relays; failed QA counts once per order.
    function attest(uint256 seed, bool passed, bool signed) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        uint256 key = _inspectorKeys[_mix(seed, 16) % 3];
        address inspector = VM.addr(key);
        bool ok;
        address attester = inspector;
        if (signed) {
            uint64 nonce = uint64(book.nonces(inspector, uint192(id)));
            Attestation memory att = Attestation(
                id, inspector, keccak256("qa"), keccak256("qa bytes"), passed, nonce, uint40(block.timestamp + 1 hours)
            );
            bytes memory sig = _sign(key, book.attestationDigest(att));
            VM.prank(_anyone(_mix(seed, 24)));
            try book.attest(_packed(o), _spec, att, sig) {
                ok = true;
            } catch {}
        } else {
            attester = _actor(_mix(seed, 24), inspector);
            VM.prank(attester);
            try book.attest(_packed(o), _spec, keccak256("qa"), keccak256("qa bytes"), passed) {
                ok = true;
            } catch {}
        }
        if (!ok) return;
        OrderStatus s = o.state.status;
        _expect(s >= OrderStatus.Awarded && s <= OrderStatus.Disputed, "attestation outside Awarded..Disputed");
        _expect(attester == VM.addr(_inspectorKeys[0]), "attestation by an inspector not named or accredited");
        if (s == OrderStatus.Shipped) {
            _expect(block.timestamp <= uint256(o.state.stamp) + o.terms.inspectionWindow, "attestation after the window");
        }
        if (!passed && !failedQaCounted[id]) {
            failedQaCounted[id] = true;
            _ghostReputation[o.state.partner][2]++;
        }
        _checkCommitted(id);
        successes["attest"]++;
    }

    function withdraw(uint256 seed, bool useToken) external {
        _count();
        address actor = accounts[seed % accounts.length];
        address to = accounts[_mix(seed, 8) % accounts.length];
        address tkn = useToken ? address(token) : address(0);
        uint256 amount = book.credits(actor, tkn);
        uint256 before = _balance(to, tkn);
        VM.prank(actor);
        try book.withdraw(tkn, to) {
            _expect(amount > 0 && amount == ghostCredit[actor][tkn], "withdrew other than the credit");
            ghostCredit[actor][tkn] = 0;
            ghostPaid[to][tkn] += amount;
            _expect(_balance(to, tkn) == before + amount, "withdrawal paid other than the credit");
            successes["withdraw"]++;
        } catch {}
    }

    // ---------------------------------------------------------------------------- registry, governance

    function addBond(uint256 seed, uint96 amount) external {
        _count();
        address p = partner(seed % 3);
        amount = uint96(bound(amount, 1, 5 ether));
        VM.prank(p);
        registry.addBond{value: amount}();
    }

    /// @notice Governance schedules one of its calls on the book (fee, recipient, parameters, tokens, unpause).
    function schedule(uint256 seed) external {
        _count();
        bytes memory data = _governanceCall(seed);
        VM.prank(gov);
        try manager.schedule(address(book), data, 0) {
            _scheduled[manager.hashOperation(gov, address(book), data)] = block.timestamp;
            _governanceCalls.push(data);
            successes["schedule"]++;
        } catch {}
    }

    /// @notice A scheduled (or any) governance call executed through the manager, by governance or anyone.
    function execute(uint256 seed) external {
        _count();
        if (_governanceCalls.length == 0) return;
        bytes memory data = _governanceCalls[seed % _governanceCalls.length];
        address actor = _actor(_mix(seed, 16), gov);
        _restricted(actor, data, true);
    }

    /// @notice Any actor (governance, guardian, certifier, parties) calls a restricted function directly.
    function callRestricted(uint256 seed) external {
        _count();
        bytes memory data = _mix(seed, 200) % 2 == 0 ? _governanceCall(seed) : _guardianCall(seed);
        address actor = accounts[_mix(seed, 16) % accounts.length];
        _restricted(actor, data, false);
    }

    /// @notice The guardian restricts at once: pause, de-list, suspend (and governance lifts a suspension).
    function guardianAct(uint256 seed) external {
        _count();
        bytes memory data = _guardianCall(seed);
        uint256 key = _fingerprint();
        VM.prank(_actor(_mix(seed, 16), guardian));
        (bool ok,) = address(book).call(data);
        if (!ok && _mix(seed, 48) % 16 == 0) {
            // rarely: a suspension lasts (the campaign never reinstates), and stops the partner's new awards
            address p = partner(_mix(seed, 32) % 3);
            VM.prank(_actor(_mix(seed, 40), guardian));
            (ok,) = address(registry).call(abi.encodeCall(registry.suspend, (p, keccak256("why"))));
        }
        _expect(_fingerprint() == key, "a guardian action moved escrow or credits");
    }

    /// @notice The certifier vets and unvets: eligibility for new awards only, never escrow.
    function certify(uint256 seed) external {
        _count();
        address p = partner(seed % 3);
        uint256 key = _fingerprint();
        if (_mix(seed, 8) % 4 != 0) {
            bytes32 seen = registry.profileHash(p);
            VM.prank(_actor(_mix(seed, 16), certifier));
            try registry.vet(p, seen, keccak256("vetted")) {} catch {}
        } else {
            VM.prank(_actor(_mix(seed, 16), certifier));
            try registry.unvet(p, keccak256("unvetted")) {} catch {}
        }
        _expect(_fingerprint() == key, "a certifier action moved escrow or credits");
    }

    /// @notice Time moves to one of an order's deadlines, one second before, on or after it.
    function warpToDeadline(uint256 seed, uint8 which, uint8 offset) external {
        _count();
        (uint256 id, Order memory o) = _pick(seed);
        if (id == 0) return;
        uint256 stamp = o.state.stamp;
        uint256[6] memory deadlines = [
            uint256(o.terms.awardDeadline),
            o.state.dueBy,
            stamp + o.terms.inspectionWindow,
            stamp + o.terms.rejectWindow,
            stamp + 3 days,
            stamp + o.terms.disputeTimeout
        ];
        uint256 target = deadlines[which % 6] + (offset % 3);
        if (target > 0) target -= 1;
        if (target > block.timestamp) VM.warp(target);
    }

    function warpBy(uint32 secs) external {
        _count();
        VM.warp(block.timestamp + (secs % 3 days));
    }

    function setArbitrationCost(uint8 which) external {
        _count();
        uint256[3] memory costs = [uint256(0), 0.01 ether, 0.03 ether];
        arbitrator.setCost(costs[which % 3]);
    }

    // ----------------------------------------------------------------------------------------- internals

    function _count() internal {
        ++calls;
    }

    function _restricted(address actor, bytes memory data, bool viaManager) internal {
        bytes32 op = manager.hashOperation(actor, address(book), data);
        uint256 scheduledAt = _scheduled[op];
        bool ready = actor == gov && scheduledAt != 0 && block.timestamp >= scheduledAt + GOVERNANCE_DELAY;
        bool guardianCall = actor == guardian && _isGuardianCall(data);
        uint256 key = _fingerprint();
        bool ok;
        VM.prank(actor);
        if (viaManager) {
            try manager.execute(address(book), data) {
                ok = true;
            } catch {}
        } else {
            (ok,) = address(book).call(data);
        }
        if (ok) {
            _expect(ready || guardianCall, "a restricted call ran without its role or before its delay");
            if (ready) delete _scheduled[op];
            successes[viaManager ? bytes32("execute") : bytes32("callRestricted")]++;
        }
        _expect(_fingerprint() == key, "a governance call moved escrow or credits");
    }

    function _governanceCall(uint256 seed) internal view returns (bytes memory) {
        uint256 kind = seed % 4;
        if (kind == 0) {
            address to = _mix(seed, 8) % 2 == 0 ? _feeRecipient0 : address(0xFEE2);
            return abi.encodeCall(book.setFee, (uint16(_mix(seed, 16) % 600), to)); // 500 is the cap
        }
        if (kind == 1) {
            uint32 rw = uint32(bound(_mix(seed, 32), 30 minutes, 8 days));
            uint32 dt = uint32(bound(_mix(seed, 64), 6 days, 91 days));
            return abi.encodeCall(book.setParameters, (rw, dt));
        }
        if (kind == 2) return abi.encodeCall(book.allowToken, (address(token)));
        return abi.encodeCall(book.unpause, ());
    }

    function _guardianCall(uint256 seed) internal view returns (bytes memory) {
        // rarely: a pause or a de-listing stops new orders until governance lifts it, two days later at best
        uint256 r = _mix(seed, 100) % 16;
        if (r == 0) return abi.encodeCall(book.pause, ());
        if (r == 1) return abi.encodeCall(book.delistToken, (address(token)));
        return abi.encodeCall(book.setFee, (0, address(0xFEE0))); // not the guardian's: refused
    }

    function _isGuardianCall(bytes memory data) internal view returns (bool) {
        bytes4 sel = bytes4(data);
        return sel == book.pause.selector || sel == book.delistToken.selector;
    }

    /// @dev Every party's credits and balances held by the book, and every order's commitment.
    function _fingerprint() internal view returns (uint256 h) {
        bytes memory acc;
        for (uint256 i; i < accounts.length; ++i) {
            acc = abi.encode(acc, book.credits(accounts[i], address(0)), book.credits(accounts[i], address(token)));
        }
        for (uint256 i; i < _orders.length; ++i) {
            acc = abi.encode(acc, book.orderHash(_ids[i]), book.arbitration(_ids[i]));
        }
        return uint256(keccak256(abi.encode(acc, address(book).balance, token.balanceOf(address(book)))));
    }

    function _terms(address buyer, uint96 price, uint96 minBond, uint32 windows, bool useToken)
        internal
        view
        returns (OrderTerms memory t, uint256 value)
    {
        t.buyer = buyer;
        t.token = useToken ? address(token) : address(0);
        t.price = uint96(bound(price, 0, 20 ether)); // 0 is refused
        t.minBond = uint96(bound(minBond, 0, 2 ether));
        t.arbitrator = address(arbitrator);
        t.awardDeadline = uint40(block.timestamp + 1 + (windows % 3 days));
        t.deliveryDeadline = t.awardDeadline + uint40(1 hours + (windows >> 8) % 10 days);
        t.inspectionWindow = uint32(1 + (windows >> 16) % 5 days);
        t.rejectWindow = book.rejectWindow();
        t.disputeTimeout = book.disputeTimeout();
        t.feeBps = book.feeBps();
        t.specHash = keccak256(abi.encode(_spec));
        value = useToken ? 0 : t.price;
    }

    /// @dev A quote for `t` signed by a random partner's key (one time in eight by the wrong key).
    function _quote(OrderTerms memory t, uint256 seed)
        internal
        view
        returns (Quote memory q, bytes memory sig, uint256 signer)
    {
        uint256 p = seed % 3;
        q.termsHash = keccak256(abi.encode(t));
        q.partner = partner(p);
        q.payee = payeeOf[q.partner];
        q.price = uint96(bound(_mix(seed, 8), 1, uint256(t.price) + 1)); // one above the cap: refused
        q.bond = uint96(bound(_mix(seed, 104), t.minBond, uint256(t.minBond) + 1 ether));
        // up to the delivery deadline, on it, or one second past it (refused)
        uint256 room = t.deliveryDeadline > block.timestamp ? t.deliveryDeadline - block.timestamp : 0;
        uint256 k = _mix(seed, 200) % 10;
        q.leadTime = uint32(k == 9 ? room + 1 : (room * k) / 8);
        q.expiry = uint40(block.timestamp + _mix(seed, 232) % 2 days);
        q.nonce = _mix(seed, 160) % 64; // reused nonces are refused
        signer = _mix(seed, 224) % 8 == 0 ? _partnerKeys[(p + 1) % 3] : _partnerKeys[p];
        sig = _sign(signer, book.quoteDigest(q));
    }

    /// @dev `o` as the book takes it (IOrderBookV2.award, "Packed order"), packed here independently of the book.
    function _packed(Order memory o) internal pure returns (bytes32[8] memory w) {
        OrderTerms memory t = o.terms;
        OrderState memory s = o.state;
        w[0] = bytes32(uint256(uint160(t.buyer)) << 96 | t.price);
        w[1] = bytes32(uint256(uint160(t.token)) << 96 | t.minBond);
        w[2] = bytes32(
            uint256(uint160(t.arbitrator)) << 96 | uint256(t.awardDeadline) << 56 | uint256(t.deliveryDeadline) << 16
                | t.feeBps
        );
        w[3] = bytes32(
            uint256(uint160(s.partner)) << 96 | uint256(t.inspectionWindow) << 64 | uint256(t.rejectWindow) << 32
                | t.disputeTimeout
        );
        w[4] = bytes32(uint256(uint160(s.payee)) << 96 | s.price);
        w[5] = bytes32(uint256(s.status) << 176 | uint256(s.bond) << 80 | uint256(s.stamp) << 40 | s.dueBy);
        w[6] = t.specHash;
        w[7] = s.head;
    }

    /// @dev `q` as award and postAwarded take it ("Packed quote": its termsHash not carried).
    function _packedQuote(Quote memory q) internal pure returns (bytes32[4] memory w) {
        w[0] = bytes32(uint256(uint160(q.partner)) << 96 | q.price);
        w[1] = bytes32(uint256(uint160(q.payee)) << 96 | q.bond);
        w[2] = bytes32(uint256(q.leadTime) << 40 | q.expiry);
        w[3] = bytes32(q.nonce);
    }

    function _afterAward(uint256 id, address actor, Quote memory q, uint256 signer) internal {
        Order storage m = _orders[_slotOf[id] - 1];
        OrderTerms memory t = m.terms;
        _expect(actor == t.buyer, "award by a non-buyer");
        _expect(VM.addr(signer) == q.partner, "award with a quote its partner did not sign");
        _expect(q.price <= t.price && q.bond >= t.minBond, "quote out of the terms");
        _expect(block.timestamp + q.leadTime <= t.deliveryDeadline && block.timestamp <= q.expiry, "quote late");
        _ghost(t.buyer, t.token, t.price - q.price);
        ghostLocked[q.partner] += q.bond;
        bytes32 quoteHash = keccak256(
            abi.encode(book.QUOTE_TYPEHASH(), q.termsHash, q.partner, q.payee, q.price, q.bond, q.leadTime, q.expiry, q.nonce)
        );
        uint40 time = uint40(block.timestamp);
        m.state = OrderState(
            OrderStatus.Awarded,
            q.partner,
            q.payee,
            q.price,
            q.bond,
            time,
            time + q.leadTime,
            OrderHashes.nextTransition(
                m.state.head,
                Transition.Awarded,
                actor,
                OrderHashes.awardEvidence(keccak256(abi.encode(t)), quoteHash, keccak256("envelope")),
                time
            )
        );
        _checkCommitted(id);
    }

    function _completed(
        uint256 id,
        Order memory o,
        address actor,
        Transition kind,
        uint256 payeeBefore
    ) internal {
        (, uint96 toPayee,) = Splits.split(o.state.price, 0, o.terms.feeBps); // the fee waits for collectFees
        address payee = o.state.payee;
        uint256 payeeNow = _balance(payee, o.terms.token);
        if (payeeNow == payeeBefore + toPayee) {
            ghostPaid[payee][o.terms.token] += toPayee;
        } else {
            _expect(payeeNow == payeeBefore, "payee paid other than its part");
            _ghost(payee, o.terms.token, toPayee); // the push failed: credited
        }
        bool onTime = o.state.stamp <= o.state.dueBy;
        _ghostReputation[o.state.partner][0]++;
        if (onTime) _ghostReputation[o.state.partner][1]++;
        _unlock(o.state.partner, o.state.bond);
        _transition(id, OrderStatus.Completed, kind, actor, 0, true);
    }

    function _resolved(uint256 id, Order memory o, address actor, Resolution memory r) internal {
        (uint96 share, uint256 held) = (r.share, r.held);
        if (share > o.state.price) return _violation("resolved with a buyer share above the price");
        (uint96 toBuyer, uint96 toPayee, uint96 fee) = Splits.split(o.state.price, share, o.terms.feeBps);
        _ghost(o.terms.buyer, o.terms.token, toBuyer);
        _ghost(o.state.payee, o.terms.token, toPayee);
        _ghost(r.feeTo, o.terms.token, fee);
        if (r.depositTo == 0) _ghost(o.terms.buyer, address(0), held);
        else if (r.depositTo == 1) _ghost(o.state.partner, address(0), held);
        else {
            _ghost(o.terms.buyer, address(0), held - held / 2);
            _ghost(o.state.partner, address(0), held / 2);
        }
        if (r.bondToBuyer) {
            _ghost(o.terms.buyer, address(0), o.state.bond);
            _slash(o.state.partner, o.state.bond, 3);
        } else {
            _unlock(o.state.partner, o.state.bond);
        }
        bytes32 evidence = OrderHashes.splitEvidence(toBuyer, toPayee, fee, r.bondToBuyer);
        _transition(id, OrderStatus.Resolved, r.kind, actor, evidence, true);
    }

    function _transition(uint256 id, OrderStatus to, Transition kind, address actor, bytes32 evidence, bool terminal)
        internal
    {
        Order storage m = _orders[_slotOf[id] - 1];
        m.state.status = to;
        m.state.head = OrderHashes.nextTransition(m.state.head, kind, actor, evidence, uint40(block.timestamp));
        if (terminal) terminalTransitions[id]++;
        _checkCommitted(id);
    }

    function _ghost(address account, address tkn, uint256 amount) internal {
        ghostCredit[account][tkn] += amount;
    }

    function _unlock(address p, uint256 bond) internal {
        // a mismatch is a violation, not a revert (a reverting handler call is discarded silently)
        if (ghostLocked[p] < bond) return _violation("released more bond than the orders locked");
        ghostLocked[p] -= bond;
    }

    function _slash(address p, uint256 bond, uint256 counter) internal {
        _unlock(p, bond);
        _ghostReputation[p][counter]++;
    }

    function _push(uint256 id, Order memory o) internal {
        _orders.push(o);
        _ids.push(id);
        _slotOf[id] = _orders.length;
    }

    function _checkCommitted(uint256 id) internal {
        _expect(keccak256(abi.encode(_orders[_slotOf[id] - 1])) == book.orderHash(id), "the book's order differs from the model");
    }

    function _pick(uint256 seed) internal view returns (uint256 id, Order memory o) {
        if (_orders.length == 0) return (0, o);
        uint256 i = seed % _orders.length;
        id = _ids[i];
        o = _orders[i];
    }

    /// @dev The right actor three times in four, else any account.
    function _actor(uint256 seed, address right) internal view returns (address) {
        if (seed % 4 != 0 && right != address(0)) return right;
        return _anyone(_mix(seed, 2));
    }

    function _anyone(uint256 seed) internal view returns (address) {
        return accounts[seed % accounts.length];
    }

    function _keyOf(address a) internal view returns (uint256) {
        for (uint256 i; i < 3; ++i) {
            if (VM.addr(_buyerKeys[i]) == a) return _buyerKeys[i];
            if (VM.addr(_partnerKeys[i]) == a) return _partnerKeys[i];
        }
        return 0xDEAD;
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = VM.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _balance(address a, address tkn) internal view returns (uint256) {
        return tkn == address(0) ? a.balance : token.balanceOf(a);
    }

    function _expect(bool ok, string memory what) internal {
        if (!ok) _violation(what);
    }

    function _violation(string memory what) internal {
        if (violations == 0) firstViolation = what;
        ++violations;
    }

    /// @dev An independent draw from one fuzzed word (forge favours small and edge values, whose high bits
    /// are all zero: shifted bits would pick the same branch every time).
    function _mix(uint256 seed, uint256 salt) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        return lo + x % (hi - lo + 1);
    }
}
