// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The forge cheatcodes the campaign uses (npm's forge-std is a 2022 copy without StdInvariant,
/// so the project keeps the few it needs; signatures as forge 1.7 defines them).
interface Vm {
    function warp(uint256 timestamp) external;
    function prank(address sender) external;
    function deal(address account, uint256 balance) external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function getNonce(address account) external view returns (uint64);
    function toString(uint256 value) external pure returns (string memory);
}

/// @dev The cheatcode address: uint160(uint256(keccak256("hevm cheat code"))).
Vm constant VM = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

/// @notice Prints `message` on forge's console (shown with -vv); a low-level call, as the console address has
/// no code and a typed call would revert on that.
function consoleLog(string memory message) view {
    (bool ok,) = address(0x000000000000000000636F6e736F6c652e6c6f67).staticcall(
        abi.encodeWithSignature("log(string)", message)
    );
    ok; // printing is best effort
}
