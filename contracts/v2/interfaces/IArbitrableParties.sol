// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title What the panel asks of an arbitrable: the two parties of one of its disputes.
/// @notice A member who is a party may not vote on the dispute. The panel calls this with its own dispute id;
/// the arbitrable keys its answer by the calling arbitrator (ids of different arbitrators collide).
interface IArbitrableParties {
    /// @notice The two parties of the dispute `disputeID` that the calling arbitrator created (for the
    /// fabmesh order book: the buyer and the partner); zero addresses for an unknown dispute.
    /// @return claimant The party that raised the dispute.
    /// @return respondent The other party.
    function disputeParties(uint256 disputeID) external view returns (address claimant, address respondent);
}
