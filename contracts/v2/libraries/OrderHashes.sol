// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Order, OrderDocs, OrderSpec, OrderState, OrderTerms, Quote, RecordKind, Transition} from "../Types.sol";

/// @title OrderHashes
/// @notice The hashes a v2 order is committed by: its slot keccak256(abi.encode(Order)), the transition chain
/// (in the order's state) and the record chain (a slot of its own), both starting from a genesis that binds
/// chain id, book and order id, and the evidence of their links. Pure; off-chain code computes the same values.
library OrderHashes {
    uint256 private constant TERMS_SIZE = 12 * 32; // abi.encode(OrderTerms)
    uint256 private constant ORDER_SIZE = 20 * 32; // abi.encode(Order): 12 terms words + 8 state words

    /// @dev keccak256(abi.encode(order)) of the raw calldata. Stored hashes are of clean encodings, so dirty
    /// input (non-zero high bits) cannot match one.
    function hashCalldata(Order calldata order) internal pure returns (bytes32 result) {
        // Assembly: hashes in place at the free memory pointer, without allocating or re-encoding.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, order, ORDER_SIZE)
            result := keccak256(ptr, ORDER_SIZE)
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

    /// @dev A memory copy of calldata `quote` (its 8 words as they are, a memory Quote's layout) and whether every
    /// word fits its field. A dirty quote is refused outright (its raw-word EIP-712 digest is one no signer
    /// signs), so every field the book uses reads the copy, without a checked calldata access per field.
    function copyQuote(Quote calldata quote) internal pure returns (Quote memory copy, bool clean) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            calldatacopy(copy, quote, 0x100)
            let dirty := shr(160, calldataload(add(quote, 0x20))) // partner
            dirty := or(dirty, shr(160, calldataload(add(quote, 0x40)))) // payee
            dirty := or(dirty, shr(96, calldataload(add(quote, 0x60)))) // price
            dirty := or(dirty, shr(96, calldataload(add(quote, 0x80)))) // bond
            dirty := or(dirty, shr(32, calldataload(add(quote, 0xa0)))) // leadTime
            dirty := or(dirty, shr(40, calldataload(add(quote, 0xc0)))) // expiry
            clean := iszero(dirty)
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

    /// @dev keccak256(abi.encode(terms)) of clean calldata terms (matched against a stored commitment).
    function hashTerms(OrderTerms calldata terms) internal pure returns (bytes32 result) {
        // Assembly: hashes the raw words in place at the free memory pointer, without re-encoding.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, terms, TERMS_SIZE)
            result := keccak256(ptr, TERMS_SIZE)
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

    /// @dev keccak256(abi.encode(terms, state)) of clean calldata terms (checked against a stored commitment,
    /// or decoded once by the caller) and a memory state, without re-encoding either.
    function hashOrder(OrderTerms calldata terms, OrderState memory state) internal pure returns (bytes32 result) {
        // Assembly: a memory OrderState is its 8 fields as 8 clean words, in order, which is its ABI encoding;
        // the terms are copied as they are (the caller vouches they are clean). Scratch memory at the free
        // pointer, not allocated.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, terms, TERMS_SIZE)
            mcopy(add(ptr, TERMS_SIZE), state, 0x100) // EIP-5656 (cancun, the project's EVM version)
            result := keccak256(ptr, ORDER_SIZE)
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
