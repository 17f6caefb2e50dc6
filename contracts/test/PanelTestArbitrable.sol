// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IArbitrable} from "@kleros/erc-792/contracts/IArbitrable.sol";
import {IArbitrator} from "@kleros/erc-792/contracts/IArbitrator.sol";

import {IArbitrableParties} from "../v2/interfaces/IArbitrableParties.sol";

/// A minimal arbitrable for the panel's own tests: raises disputes between two named parties, answers
/// `disputeParties` and records the rulings it receives. `refuseRulings` makes `rule` revert.
contract PanelTestArbitrable is IArbitrable, IArbitrableParties {
    error NotArbitrator();
    error Refused();

    IArbitrator public immutable arbitrator;
    bool public refuseRulings;
    mapping(uint256 disputeID => address[2]) private _parties;
    mapping(uint256 disputeID => uint256) public rulingPlusOne;

    constructor(IArbitrator arbitrator_) {
        arbitrator = arbitrator_;
    }

    function raiseDispute(address claimant, address respondent, uint256 choices) external payable returns (uint256 id) {
        id = arbitrator.createDispute{value: msg.value}(choices, "");
        _parties[id] = [claimant, respondent];
    }

    function setRefuseRulings(bool refuse) external {
        refuseRulings = refuse;
    }

    function rule(uint256 disputeID, uint256 ruling) external {
        if (msg.sender != address(arbitrator)) revert NotArbitrator();
        if (refuseRulings) revert Refused();
        rulingPlusOne[disputeID] = ruling + 1;
        emit Ruling(arbitrator, disputeID, ruling);
    }

    function disputeParties(uint256 disputeID) external view returns (address, address) {
        return (_parties[disputeID][0], _parties[disputeID][1]);
    }
}
