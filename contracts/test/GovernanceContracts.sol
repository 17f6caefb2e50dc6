// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";
import {Safe} from "@safe-global/safe-smart-account/contracts/Safe.sol";
import {SafeProxyFactory} from "@safe-global/safe-smart-account/contracts/proxies/SafeProxyFactory.sol";

// Brings OpenZeppelin's AccessManager and the Safe multisig (npm @safe-global/safe-smart-account 1.5.0) into
// the brownie build for the v2 tests and scripts/deploy_v2.py's multisig option (a Safe proxy as the manager's
// admin). brownie builds an imported contract only when a project contract refers to it, hence this one.
abstract contract GovernanceContracts {
    AccessManager internal _manager;
    Safe internal _singleton;
    SafeProxyFactory internal _factory;
}
