// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
contract Probe is ReentrancyGuard { function f() external nonReentrant returns (uint256) { return 1; } }
