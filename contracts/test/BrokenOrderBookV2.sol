// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OrderBookV2} from "../v2/OrderBookV2.sol";
import {IPartnerRegistryV2} from "../v2/interfaces/IPartnerRegistryV2.sol";

/// @notice Test-only, deliberately broken OrderBookV2 for the forge invariant campaign: its restricted
/// functions skip the AccessManager, so anyone sets the fee and parameters, lists and de-lists tokens and
/// pauses or unpauses at once (issue 14's F10 reintroduced). Everything else is the real book.
/// tools/forge_campaign.py asserts the campaign fails on it.
contract BrokenOrderBookV2 is OrderBookV2 {
    constructor(address authority, IPartnerRegistryV2 registry_, address feeRecipient_)
        OrderBookV2(authority, registry_, feeRecipient_)
    {}

    function _checkCanCall(address, bytes calldata) internal pure override {}
}
