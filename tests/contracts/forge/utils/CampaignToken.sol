// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MintableERC20} from "contracts/test/MintableERC20.sol";

/// @notice The campaign's allow-listed ERC-20 (plain: the misbehaving tokens have tests of their own).
contract CampaignToken is MintableERC20 {
    constructor() MintableERC20("Campaign", "CMP") {}
}
