// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The forge cheatcodes the campaign uses (npm's forge-std is a 2022 copy without StdInvariant,
/// so the project keeps the few it needs; signatures as forge 1.7 defines them).
interface Vm {
    function warp(uint256 timestamp) external;
    function prank(address sender) external;
    function deal(address account, uint256 balance) external;
    function assume(bool condition) external pure;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function label(address account, string calldata name) external;
}

/// @dev The cheatcode address: uint160(uint256(keccak256("hevm cheat code"))).
Vm constant VM = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
