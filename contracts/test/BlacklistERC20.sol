// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MintableERC20} from "./MintableERC20.sol";

/// @title BlacklistERC20
/// @notice Test token that, like USDC, refuses transfers to or from a blacklisted address.
contract BlacklistERC20 is MintableERC20 {
    error Blacklisted(address account);

    mapping(address account => bool listed) public blacklisted;

    constructor() MintableERC20("Blacklist Token", "BLK") {}

    function setBlacklisted(address account, bool listed) external {
        blacklisted[account] = listed;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blacklisted[from]) revert Blacklisted(from);
        if (blacklisted[to]) revert Blacklisted(to);
        super._update(from, to, value);
    }
}
