// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IOrderBook} from "../interfaces/IOrderBook.sol";
import {Order, OrderStatus, RecordKind} from "../Types.sol";

/// @title OrderCommitment
/// @notice The hashes an order is committed by: its one storage slot keccak256(abi.encode(Order)), the
/// provenance hash chain and the evidence of its report and ruling records. Pure; pynode computes the same
/// values off-chain. Terms, spec and docs are hashed with plain keccak256(abi.encode(x)) where they are
/// checked: that encoding also rejects dirty calldata.
library OrderCommitment {
    uint256 private constant TERMS_SIZE = 9 * 32; // abi.encode(OrderTerms)
    uint256 private constant ORDER_SIZE = 13 * 32; // abi.encode(Order)

    /// @dev Reverts with `OrderMismatch` unless `order` is order `orderId`'s current value: its raw calldata
    /// hashes to `commitment`, the stored hash. Stored hashes are of clean encodings, so dirty input (non-zero
    /// high bits) cannot match one.
    function verify(Order calldata order, uint256 orderId, bytes32 commitment) internal pure {
        bytes32 actual;
        // Assembly: hashes in place at the free memory pointer, without allocating or re-encoding.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, order, ORDER_SIZE)
            actual := keccak256(ptr, ORDER_SIZE)
        }
        if (actual != commitment) revert IOrderBook.OrderMismatch(orderId);
    }

    /// @dev keccak256(abi.encode(order.terms, OrderState(status, partner, stamp, head))), reusing the terms'
    /// calldata: only call it with an `order` that matched its stored hash, so its terms are a clean encoding.
    function hashWithState(Order calldata order, OrderStatus status, address partner, uint40 stamp, bytes32 head)
        internal
        pure
        returns (bytes32 result)
    {
        // Assembly: hashes in place at the free memory pointer, without allocating or re-encoding.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, order, TERMS_SIZE)
            mstore(add(ptr, TERMS_SIZE), status)
            mstore(add(ptr, add(TERMS_SIZE, 0x20)), partner)
            mstore(add(ptr, add(TERMS_SIZE, 0x40)), stamp)
            mstore(add(ptr, add(TERMS_SIZE, 0x60)), head)
            result := keccak256(ptr, ORDER_SIZE)
        }
    }

    /// @dev The provenance head after one record: keccak256(abi.encode(prevHead, kind, actor, evidence,
    /// time)) without allocating memory.
    function nextHead(bytes32 prevHead, RecordKind kind, address actor, bytes32 evidence, uint40 time)
        internal
        pure
        returns (bytes32 head)
    {
        // Assembly: hashes in place at the free memory pointer, without allocating or re-encoding.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, prevHead)
            mstore(add(ptr, 0x20), kind)
            mstore(add(ptr, 0x40), actor)
            mstore(add(ptr, 0x60), evidence)
            mstore(add(ptr, 0x80), time)
            head := keccak256(ptr, 0xa0)
        }
    }

    /// @dev keccak256(abi.encode(order)): the commitment of a (clean) order.
    function hash(Order calldata order) internal pure returns (bytes32) {
        return keccak256(abi.encode(order));
    }

    /// @dev Evidence of a QualityAttested record, and of a Shipped one with `passed` true:
    /// keccak256(abi.encode(reportCid, reportHash, passed)) without allocating memory.
    function reportEvidence(bytes32 reportCid, bytes32 reportHash, bool passed) internal pure returns (bytes32 result) {
        // Assembly: hashes in place at the free memory pointer, without allocating or re-encoding.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, reportCid)
            mstore(add(ptr, 0x20), reportHash)
            mstore(add(ptr, 0x40), passed)
            result := keccak256(ptr, 0x60)
        }
    }

    /// @dev Evidence of a Resolved record: keccak256(abi.encode(buyerShare, partnerLost, rulingCid)) without
    /// allocating memory.
    function rulingEvidence(uint96 buyerShare, bool partnerLost, bytes32 rulingCid)
        internal
        pure
        returns (bytes32 result)
    {
        // Assembly: hashes in place at the free memory pointer, without allocating or re-encoding.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, buyerShare)
            mstore(add(ptr, 0x20), partnerLost)
            mstore(add(ptr, 0x40), rulingCid)
            result := keccak256(ptr, 0x60)
        }
    }
}
