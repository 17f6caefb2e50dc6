// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Test-only ERC-20 with ERC-777-style transfer hooks, to check re-entrancy through a token: for
/// every account marked with {setHooked}, a transfer from it first calls `tokensToSend(from, to, value)` on
/// it (before balances move) and a transfer to it then calls `tokensReceived(from, to, value)` (after).
/// A failing hook fails the transfer.
contract CallbackERC20 is ERC20 {
    /// @notice Accounts whose hooks are called.
    mapping(address account => bool) public hooked;

    constructor() ERC20("Callback Token", "HOOK") {}

    /// @notice Mints `amount` to `to` (anyone may call: test only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Turns `account`'s hooks on or off (anyone may call: test only).
    function setHooked(address account, bool on) external {
        hooked[account] = on;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (hooked[from]) _hook(from, abi.encodeWithSignature("tokensToSend(address,address,uint256)", from, to, value));
        super._update(from, to, value);
        if (hooked[to]) _hook(to, abi.encodeWithSignature("tokensReceived(address,address,uint256)", from, to, value));
    }

    function _hook(address account, bytes memory data) private {
        (bool ok, bytes memory result) = account.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}
