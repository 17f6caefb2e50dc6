// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MintableERC20} from "./MintableERC20.sol";

/// @notice Test-only ERC-20 with a transfer-fee switch (like USDT's): while `feeBps` is non-zero every
/// transfer debits the sender `value` but burns `value * feeBps / 10_000` of it, so the recipient gets less.
/// At 10,000 bps a transfer reports success and delivers nothing. The fee can be switched on after an order
/// was posted.
contract FeeSwitchERC20 is MintableERC20 {
    /// @notice Current fee in basis points of each transfer.
    uint16 public feeBps;

    constructor() MintableERC20("Fee Switch Token", "FSW") {}

    /// @notice Sets the fee, at most 10,000 bps (anyone may call: test only).
    function setFeeBps(uint16 bps) external {
        require(bps <= 10_000, "fee");
        feeBps = bps;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (feeBps == 0 || from == address(0) || to == address(0)) return super._update(from, to, value);
        uint256 fee = value * feeBps / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
