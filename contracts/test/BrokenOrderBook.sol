// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Attestation, Order} from "../Types.sol";
import {IOrderBook} from "../interfaces/IOrderBook.sol";

/// @notice Test-only, deliberately broken order book for the auditor's tests. It keeps the OrderBook's
/// event shapes, `orderHash` and `hasRole`, but enforces nothing: `attest` and `attestBySig` skip the role
/// and signature checks, and `emitLog` emits any log (e.g. a payout larger than the escrow).
contract BrokenOrderBook {
    mapping(uint256 => bytes32) public orderHash;
    mapping(bytes32 => mapping(address => bool)) public hasRole;

    function setOrderHash(uint256 orderId, bytes32 hash) external {
        orderHash[orderId] = hash;
    }

    function setRole(bytes32 role, address account, bool held) external {
        hasRole[role][account] = held;
    }

    /// @notice Emits a raw log with up to four topics.
    function emitLog(bytes32[] calldata topics, bytes calldata data) external {
        bytes memory payload = data;
        uint256 n = topics.length;
        require(n <= 4, "topics");
        bytes32 t0 = n > 0 ? topics[0] : bytes32(0);
        bytes32 t1 = n > 1 ? topics[1] : bytes32(0);
        bytes32 t2 = n > 2 ? topics[2] : bytes32(0);
        bytes32 t3 = n > 3 ? topics[3] : bytes32(0);
        assembly ("memory-safe") {
            let p := add(payload, 0x20)
            let len := mload(payload)
            switch n
            case 0 { log0(p, len) }
            case 1 { log1(p, len, t0) }
            case 2 { log2(p, len, t0, t1) }
            case 3 { log3(p, len, t0, t1, t2) }
            default { log4(p, len, t0, t1, t2, t3) }
        }
    }

    /// @notice Like OrderBook.attest, without the partner / INSPECTOR_ROLE check.
    function attest(uint256 orderId, Order calldata order, bytes32 reportCid, bytes32 reportHash, bool passed)
        external
    {
        _attested(orderId, order, msg.sender, reportCid, reportHash, passed);
    }

    /// @notice Like OrderBook.attestBySig, without verifying the signature (or the role, or the nonce).
    function attestBySig(Order calldata order, Attestation calldata att, bytes calldata) external {
        _attested(att.orderId, order, att.inspector, att.reportCid, att.reportHash, att.passed);
    }

    function _attested(
        uint256 orderId,
        Order calldata order,
        address attester,
        bytes32 reportCid,
        bytes32 reportHash,
        bool passed
    ) private {
        Order memory o = order;
        bytes32 prev = o.state.head;
        uint40 time = uint40(block.timestamp);
        bytes32 evidence = keccak256(abi.encode(reportCid, reportHash, passed));
        o.state.head = keccak256(abi.encode(prev, uint8(4), attester, evidence, time));
        orderHash[orderId] = keccak256(abi.encode(o));
        emit IOrderBook.QualityAttested(orderId, attester, reportCid, reportHash, passed, prev, time);
    }
}
