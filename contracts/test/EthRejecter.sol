// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CallForwarder} from "./CallForwarder.sol";

/// @notice Test-only account that forwards calls and rejects incoming ETH (it has no receive function),
/// to exercise failed ETH payouts.
contract EthRejecter is CallForwarder {}
