// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice What forge's invariant runner reads from a test contract (StdInvariant's protocol, without
/// npm's outdated forge-std): the handlers it calls at random. Invariants are `invariant_*` functions that
/// revert on a violation.
abstract contract Invariant {
    address[] private _targets;

    function targetContracts() public view returns (address[] memory) {
        return _targets;
    }

    function _target(address handler) internal {
        _targets.push(handler);
    }
}
