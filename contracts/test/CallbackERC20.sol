// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";

import {MintableERC20} from "./MintableERC20.sol";

/// @notice Test-only ERC-20 with ERC-777-style transfer hooks, to check re-entrancy through a token: for
/// every account marked with {setHooked}, a transfer from it first calls `tokensToSend(from, to, value)` on
/// it (before balances move) and a transfer to it then calls `tokensReceived(from, to, value)` (after).
/// A failing hook fails the transfer.
contract CallbackERC20 is MintableERC20 {
    string private constant TOKENS_TO_SEND = "tokensToSend(address,address,uint256)";
    string private constant TOKENS_RECEIVED = "tokensReceived(address,address,uint256)";

    /// @notice Accounts whose hooks are called.
    mapping(address account => bool) public hooked;

    constructor() MintableERC20("Callback Token", "HOOK") {}

    /// @notice Turns `account`'s hooks on or off (anyone may call: test only).
    function setHooked(address account, bool on) external {
        hooked[account] = on;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (hooked[from]) Address.functionCall(from, abi.encodeWithSignature(TOKENS_TO_SEND, from, to, value));
        super._update(from, to, value);
        if (hooked[to]) Address.functionCall(to, abi.encodeWithSignature(TOKENS_RECEIVED, from, to, value));
    }
}
