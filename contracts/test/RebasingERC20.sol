// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title RebasingERC20
/// @notice Test token whose balances move without transfers, like a rebasing token: `rebaseDown` shrinks a
/// holder's balance, `mint` (or a positive rebase) grows it.
contract RebasingERC20 is ERC20 {
    constructor() ERC20("Rebasing", "RBS") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function rebaseDown(address holder, uint256 amount) external {
        _burn(holder, amount);
    }
}
