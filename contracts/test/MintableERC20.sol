// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Test-only base of the misbehaving tokens: an OpenZeppelin ERC-20 with a public mint.
abstract contract MintableERC20 is ERC20 {
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    /// @notice Mints `amount` to `to` (anyone may call: test only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
