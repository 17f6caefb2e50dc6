// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IArbitrable} from "@kleros/erc-792/contracts/IArbitrable.sol";
import {IArbitrator} from "@kleros/erc-792/contracts/IArbitrator.sol";

/// @title RawArbitrator
/// @notice Test ERC-792 arbitrator without guards of its own: its cost can change between calls and it passes
/// any ruling, any number of times, so the arbitrable's own checks (ruling range, one ruling, cost rise) are
/// what the tests exercise.
contract RawArbitrator is IArbitrator {
    uint256 public cost;
    uint256 public count;

    constructor(uint256 cost_) {
        cost = cost_;
    }

    function setCost(uint256 cost_) external {
        cost = cost_;
    }

    function arbitrationCost(bytes calldata) external view returns (uint256) {
        return cost;
    }

    function createDispute(uint256, bytes calldata) external payable returns (uint256 disputeID) {
        disputeID = count++;
        emit DisputeCreation(disputeID, IArbitrable(msg.sender));
    }

    function giveRuling(IArbitrable arbitrable, uint256 disputeID, uint256 ruling) external {
        arbitrable.rule(disputeID, ruling);
    }

    function appeal(uint256, bytes calldata) external payable {}

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
