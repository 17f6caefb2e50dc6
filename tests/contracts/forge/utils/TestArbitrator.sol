// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IArbitrable} from "@kleros/erc-792/contracts/IArbitrable.sol";
import {IArbitrator} from "@kleros/erc-792/contracts/IArbitrator.sol";

/// @notice The campaign's ERC-792 court: a settable cost, disputes numbered from 1, and rulings given on
/// demand (any value, in range or not). No appeals.
contract TestArbitrator is IArbitrator {
    uint256 public cost;
    uint256 public count;
    mapping(uint256 disputeId => IArbitrable arbitrable) public arbitrableOf;

    error NoAppeals();
    error BelowCost(uint256 paid, uint256 cost);

    function setCost(uint256 newCost) external {
        cost = newCost;
    }

    function createDispute(uint256, bytes calldata) external payable returns (uint256 disputeId) {
        if (msg.value < cost) revert BelowCost(msg.value, cost);
        disputeId = ++count;
        arbitrableOf[disputeId] = IArbitrable(msg.sender);
        emit DisputeCreation(disputeId, IArbitrable(msg.sender));
    }

    function giveRuling(uint256 disputeId, uint256 ruling) external {
        arbitrableOf[disputeId].rule(disputeId, ruling);
    }

    function arbitrationCost(bytes calldata) external view returns (uint256) {
        return cost;
    }

    function appeal(uint256, bytes calldata) external payable {
        revert NoAppeals();
    }

    function appealCost(uint256, bytes calldata) external pure returns (uint256) {
        return type(uint256).max;
    }

    function appealPeriod(uint256) external pure returns (uint256, uint256) {
        return (0, 0);
    }

    function disputeStatus(uint256) external pure returns (DisputeStatus) {
        return DisputeStatus.Waiting;
    }

    function currentRuling(uint256) external pure returns (uint256) {
        return 0;
    }
}

/// @notice A payee that refuses ETH (no receive): a completion's push to it must become a credit.
contract EthRefuser {}
