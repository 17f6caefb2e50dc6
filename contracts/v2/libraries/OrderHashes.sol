// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OrderDocs, OrderSpec, OrderState, OrderTerms, Quote, RecordKind, Transition} from "../Types.sol";

/// @title OrderHashes
/// @notice The hashes a v2 order is committed by: its slot keccak256(abi.encode(Order)), the transition chain
/// (in the order's state) and the record chain (a slot of its own), both starting from a genesis that binds
/// chain id, book and order id, and the evidence of their links. Pure; off-chain code computes the same values.
library OrderHashes {
    uint256 private constant TERMS_SIZE = 12 * 32; // abi.encode(OrderTerms)
    uint256 private constant ORDER_SIZE = 20 * 32; // abi.encode(Order): 12 terms words + 8 state words

    /// @dev The order a packed `Order` holds (IOrderBookV2, "Packed order"; docs/protocol.md §7.1), unpacked into
    /// newly allocated memory laid out as a memory `Order` (two pointers, then its terms' 12 words and right
    /// after them its state's 8): returned as that memory address, which a caller types as `Order memory`
    /// (OrderBookV2Base._load). A function returning `Order memory` would first allocate and zero a struct of
    /// its own (~400 gas). Every field is masked to its width, so the structs are clean whatever the calldata:
    /// a packing that unpacks to a stored order is that order, and anything else matches no commitment.
    ///     w0 = buyer << 96 | price                 w4 = payee << 96 | state.price
    ///     w1 = token << 96 | minBond               w5 = status << 176 | bond << 80 | stamp << 40 | dueBy
    ///     w2 = arbitrator << 96 | awardDeadline << 56 | deliveryDeadline << 16 | feeBps
    ///     w3 = partner << 96 | inspectionWindow << 64 | rejectWindow << 32 | disputeTimeout
    ///     w6 = specHash                            w7 = head
    function unpackOrder(bytes32[8] calldata packed) internal pure returns (uint256 order) {
        // Assembly: allocates the 22 words and writes every one of them (each field shifted and masked into its
        // word: a memory struct is one clean word per field, in order).
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            order := mload(0x40)
            let t := add(order, 0x40)
            let s := add(t, TERMS_SIZE)
            mstore(0x40, add(s, 0x100))
            mstore(order, t)
            mstore(add(order, 0x20), s)
            let m96 := 0xffffffffffffffffffffffff
            let m40 := 0xffffffffff
            let m32 := 0xffffffff
            let w := calldataload(packed)
            mstore(t, shr(96, w)) // buyer
            mstore(add(t, 0x40), and(w, m96)) // price
            w := calldataload(add(packed, 0x20))
            mstore(add(t, 0x20), shr(96, w)) // token
            mstore(add(t, 0x60), and(w, m96)) // minBond
            w := calldataload(add(packed, 0x40))
            mstore(add(t, 0x80), shr(96, w)) // arbitrator
            mstore(add(t, 0xa0), and(shr(56, w), m40)) // awardDeadline
            mstore(add(t, 0xc0), and(shr(16, w), m40)) // deliveryDeadline
            mstore(add(t, 0x140), and(w, 0xffff)) // feeBps
            w := calldataload(add(packed, 0x60))
            mstore(add(s, 0x20), shr(96, w)) // partner
            mstore(add(t, 0xe0), and(shr(64, w), m32)) // inspectionWindow
            mstore(add(t, 0x100), and(shr(32, w), m32)) // rejectWindow
            mstore(add(t, 0x120), and(w, m32)) // disputeTimeout
            w := calldataload(add(packed, 0x80))
            mstore(add(s, 0x40), shr(96, w)) // payee
            mstore(add(s, 0x60), and(w, m96)) // price
            w := calldataload(add(packed, 0xa0))
            mstore(s, and(shr(176, w), 0xff)) // status
            mstore(add(s, 0x80), and(shr(80, w), m96)) // bond
            mstore(add(s, 0xa0), and(shr(40, w), m40)) // stamp
            mstore(add(s, 0xc0), and(w, m40)) // dueBy
            mstore(add(t, 0x160), calldataload(add(packed, 0xc0))) // specHash
            mstore(add(s, 0xe0), calldataload(add(packed, 0xe0))) // head
        }
    }

    /// @dev Whether every calldata word of `terms` fits its field (no dirty high bits): what `abi.encode`
    /// would check, without copying. Clean terms hash (`hashTerms`) to the hash of their decoded values.
    function isCleanTerms(OrderTerms calldata terms) internal pure returns (bool clean) {
        // Assembly: each word shifted right by its field's width must be zero (specHash is a full word).
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let dirty := or(shr(160, calldataload(terms)), shr(160, calldataload(add(terms, 0x20)))) // buyer, token
            dirty := or(dirty, shr(96, calldataload(add(terms, 0x40)))) // price
            dirty := or(dirty, shr(96, calldataload(add(terms, 0x60)))) // minBond
            dirty := or(dirty, shr(160, calldataload(add(terms, 0x80)))) // arbitrator
            dirty := or(dirty, shr(40, calldataload(add(terms, 0xa0)))) // awardDeadline
            dirty := or(dirty, shr(40, calldataload(add(terms, 0xc0)))) // deliveryDeadline
            dirty := or(dirty, shr(32, calldataload(add(terms, 0xe0)))) // inspectionWindow
            dirty := or(dirty, shr(32, calldataload(add(terms, 0x100)))) // rejectWindow
            dirty := or(dirty, shr(32, calldataload(add(terms, 0x120)))) // disputeTimeout
            dirty := or(dirty, shr(16, calldataload(add(terms, 0x140)))) // feeBps
            clean := iszero(dirty)
        }
    }

    /// @dev Whether `spec` is a canonical encoding: its head words fit their fields, the inspectors' offset
    /// is 0xa0 (the array follows the five head words) and every inspector word is an address. Then
    /// `hashSpec` is the hash of the decoded spec.
    function isCleanSpec(OrderSpec calldata spec) internal pure returns (bool clean) {
        address[] calldata inspectors = spec.inspectors; // Solidity checks it lies within the calldata
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let dirty := or(shr(32, calldataload(spec)), shr(64, calldataload(add(spec, 0x20)))) // processes, materials
            dirty := or(dirty, shr(128, calldataload(add(spec, 0x40)))) // certIds
            dirty := or(dirty, xor(calldataload(add(spec, 0x60)), 0xa0)) // the inspectors' offset
            for { let i := 0 } lt(i, inspectors.length) { i := add(i, 1) } {
                dirty := or(dirty, shr(160, calldataload(add(inspectors.offset, mul(i, 0x20)))))
            }
            clean := iszero(dirty)
        }
    }

    /// @dev keccak256(abi.encode(docs)) of calldata docs, reverting-free: `clean` is false if the region word
    /// (bytes8, left-aligned) has bits below its 8 bytes.
    function hashDocs(OrderDocs calldata docs) internal pure returns (bytes32 result, bool clean) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, docs, 0x80)
            result := keccak256(ptr, 0x80)
            clean := iszero(shl(64, calldataload(add(docs, 0x60))))
        }
    }

    /// @dev The quote a packed quote (IOrderBookV2, "Packed quote"; docs/protocol.md §7.1) gives for terms hashing
    /// to `termsHash`, which it does not carry (it prices the order it is awarded to, and its EIP-712 digest
    /// binds them). Every field is masked to its width: what is checked and signed is the unpacked quote.
    ///     w0 = partner << 96 | price    w1 = payee << 96 | bond    w2 = leadTime << 40 | expiry    w3 = nonce
    function unpackQuote(bytes32[4] calldata packed, bytes32 termsHash) internal pure returns (Quote memory q) {
        // Assembly: writes the 8 words of the zeroed return, each field shifted and masked into its word.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let m96 := 0xffffffffffffffffffffffff
            let w := calldataload(packed)
            mstore(q, termsHash)
            mstore(add(q, 0x20), shr(96, w)) // partner
            mstore(add(q, 0x60), and(w, m96)) // price
            w := calldataload(add(packed, 0x20))
            mstore(add(q, 0x40), shr(96, w)) // payee
            mstore(add(q, 0x80), and(w, m96)) // bond
            w := calldataload(add(packed, 0x40))
            mstore(add(q, 0xa0), and(shr(40, w), 0xffffffff)) // leadTime
            mstore(add(q, 0xc0), and(w, 0xffffffffff)) // expiry
            mstore(add(q, 0xe0), calldataload(add(packed, 0x60))) // nonce
        }
    }

    /// @dev The requirement bits of a spec checked clean (`isCleanSpec`) or matched against a commitment
    /// (`hashSpec`), read as they are.
    function requirements(OrderSpec calldata spec)
        internal
        pure
        returns (uint32 processes, uint64 materials, uint128 certIds)
    {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            processes := calldataload(spec)
            materials := calldataload(add(spec, 0x20))
            certIds := calldataload(add(spec, 0x40))
        }
    }

    /// @dev A memory copy of clean calldata terms (`isCleanTerms`): their 12 words as they are, which is a memory
    /// OrderTerms' layout.
    function copyTerms(OrderTerms calldata terms) internal pure returns (OrderTerms memory copy) {
        // Assembly: fills the struct Solidity allocated for `copy` (12 words) without field-by-field decoding.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            calldatacopy(copy, terms, TERMS_SIZE)
        }
    }

    /// @dev keccak256(abi.encode(terms)) of memory terms (a memory OrderTerms is its ABI encoding: 12 clean words).
    function hashTerms(OrderTerms memory terms) internal pure returns (bytes32 result) {
        // Assembly: a memory OrderTerms (static fields only) is its ABI encoding: hashed in place, no copy.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            result := keccak256(terms, TERMS_SIZE)
        }
    }

    /// @dev keccak256(abi.encode(spec)) of calldata as it is: the offset word 0x20, the spec's five head words
    /// (with the inspectors' own offset word), the inspectors' length and addresses. Equal to a hash of a clean
    /// canonical encoding only when these bytes are that encoding.
    function hashSpec(OrderSpec calldata spec) internal pure returns (bytes32 result) {
        address[] calldata inspectors = spec.inspectors; // Solidity checks it lies within the calldata
        // Assembly: hashes at the free memory pointer (scratch, not allocated) without re-encoding.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, 0x20)
            calldatacopy(add(ptr, 0x20), spec, 0xa0)
            mstore(add(ptr, 0xc0), inspectors.length)
            let size := mul(inspectors.length, 0x20)
            calldatacopy(add(ptr, 0xe0), inspectors.offset, size)
            result := keccak256(ptr, add(0xe0, size))
        }
    }

    /// @dev keccak256(abi.encode(Order(terms, state))) of memory terms and state, without re-encoding either.
    function hashOrder(OrderTerms memory terms, OrderState memory state) internal pure returns (bytes32 result) {
        // Assembly: memory OrderTerms and OrderState are their fields as clean words, in order, which is their ABI
        // encoding: hashed in place when the state follows the terms, else both copied with MCOPY (EIP-5656,
        // cancun: the project's EVM version) to scratch memory at the free pointer (not allocated).
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            switch eq(add(terms, TERMS_SIZE), state)
            case 1 { result := keccak256(terms, ORDER_SIZE) } // one image already (unpackOrder)
            default {
                let ptr := mload(0x40)
                mcopy(ptr, terms, TERMS_SIZE)
                mcopy(add(ptr, TERMS_SIZE), state, 0x100)
                result := keccak256(ptr, ORDER_SIZE)
            }
        }
    }

    /// @dev The id of the order with these terms: their hash's top 192 bits. Terms hash to one id, so an order
    /// (and a quote, which names its terms) exists once; 192 bits keep it a NoncesKeyed key.
    function orderIdOf(bytes32 termsHash) internal pure returns (uint256) {
        return uint256(termsHash) >> 64;
    }

    /// @dev Start of both chains of order `orderId`: keccak256(abi.encode(chainId, book, orderId)).
    function genesis(uint256 chainId, address book, uint256 orderId) internal pure returns (bytes32) {
        return _hash3(bytes32(chainId), bytes32(uint256(uint160(book))), bytes32(orderId));
    }

    /// @dev Transition-chain head after one status change: keccak256(abi.encode(prev, kind, actor, evidence, time)).
    function nextTransition(bytes32 prev, Transition kind, address actor, bytes32 evidence, uint40 time)
        internal
        pure
        returns (bytes32)
    {
        return _link(prev, uint8(kind), actor, evidence, time);
    }

    /// @dev Record-chain head after one record: keccak256(abi.encode(prev, kind, actor, evidence, time)).
    function nextRecord(bytes32 prev, RecordKind kind, address actor, bytes32 evidence, uint40 time)
        internal
        pure
        returns (bytes32)
    {
        return _link(prev, uint8(kind), actor, evidence, time);
    }

    /// @dev Evidence of an award: keccak256(abi.encode(termsHash, quoteStructHash, keyEnvelopeCid)).
    function awardEvidence(bytes32 termsHash, bytes32 quoteHash, bytes32 keyEnvelopeCid)
        internal
        pure
        returns (bytes32)
    {
        return _hash3(termsHash, quoteHash, keyEnvelopeCid);
    }

    /// @dev Evidence of a shipment or an attestation: keccak256(abi.encode(reportCid, reportHash, passed)).
    function reportEvidence(bytes32 reportCid, bytes32 reportHash, bool passed) internal pure returns (bytes32) {
        return _hash3(reportCid, reportHash, bytes32(uint256(passed ? 1 : 0)));
    }

    /// @dev Evidence of a split: keccak256(abi.encode(toBuyer, toPayee, fee, bondToBuyer)).
    function splitEvidence(uint256 toBuyer, uint256 toPayee, uint256 fee, bool bondToBuyer)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(toBuyer, toPayee, fee, bondToBuyer));
    }

    /// @dev keccak256(abi.encode(a, b, c)) of three words, hashed at the free memory pointer without allocating.
    function _hash3(bytes32 a, bytes32 b, bytes32 c) private pure returns (bytes32 result) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, a)
            mstore(add(ptr, 0x20), b)
            mstore(add(ptr, 0x40), c)
            result := keccak256(ptr, 0x60)
        }
    }

    function _link(bytes32 prev, uint8 kind, address actor, bytes32 evidence, uint40 time)
        private
        pure
        returns (bytes32 head)
    {
        // Assembly: hashes in place at the free memory pointer, without allocating or re-encoding.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, prev)
            mstore(add(ptr, 0x20), kind)
            mstore(add(ptr, 0x40), actor)
            mstore(add(ptr, 0x60), evidence)
            mstore(add(ptr, 0x80), time)
            head := keccak256(ptr, 0xa0)
        }
    }
}
