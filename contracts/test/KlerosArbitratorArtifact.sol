// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// solhint-disable no-empty-blocks
import {SimpleCentralizedArbitrator} from "@kleros/erc-792/contracts/examples/SimpleCentralizedArbitrator.sol";

/// @title KlerosArbitratorArtifact
/// @notice Never deployed: brings Kleros's reference ERC-792 SimpleCentralizedArbitrator (the npm package
/// kleros/erc-792 8.0.0, unchanged) into brownie's build, so the v2 book's tests dispute before a real
/// IArbitrator.
abstract contract KlerosArbitratorArtifact is SimpleCentralizedArbitrator {}
