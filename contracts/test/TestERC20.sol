// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Test-only OpenZeppelin ERC-20 with a public mint: payment token in tests, transfer gas baseline.
contract TestERC20 is ERC20 {
    constructor() ERC20("Test Token", "TST") {}

    /// @notice Mints `amount` to `to` (anyone may call: test only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
