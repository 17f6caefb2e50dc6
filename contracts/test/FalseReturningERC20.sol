// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MintableERC20} from "./MintableERC20.sol";

/// @notice Test-only ERC-20 that, while {setReturnFalse} is on, answers `transfer` and `transferFrom` with
/// `false` and moves nothing (the pre-ERC-20-final failure style SafeERC20 must catch). It can be switched
/// on after an order was posted, to check that payouts fail without losing the credit.
contract FalseReturningERC20 is MintableERC20 {
    /// @notice Whether transfers currently fail by returning false.
    bool public returnFalse;

    constructor() MintableERC20("False Token", "FALSE") {}

    /// @notice Switches the failure mode (anyone may call: test only).
    function setReturnFalse(bool on) external {
        returnFalse = on;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        return returnFalse ? false : super.transfer(to, value);
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        return returnFalse ? false : super.transferFrom(from, to, value);
    }
}
