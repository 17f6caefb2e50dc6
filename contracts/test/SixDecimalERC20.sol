// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Test-only OpenZeppelin ERC-20 with 6 decimals (like USDC) and a public mint: amounts in the CLI and
///         the audit report must read in the token's own units, not in 18-decimal ones.
contract SixDecimalERC20 is ERC20 {
    constructor() ERC20("Test USD Coin", "USDC") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` to `to` (anyone may call: test only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
