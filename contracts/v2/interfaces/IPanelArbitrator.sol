// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IArbitrator} from "@kleros/erc-792/contracts/IArbitrator.sol";

/// @title Panel arbitrator: a k-of-n panel of members with appeal rounds (ERC-792 `IArbitrator`).
/// @notice A dispute's first round needs `quorum` (k) members voting for the same ruling; the ruling is then
/// provisional for `appealWindow` seconds, in which anyone may appeal by paying `appealCost`. Round r needs
/// k + r agreeing votes; an appeal is possible while k + r + 1 ≤ n, so the last round is unanimous and final.
/// A round that does not reach its votes within `votingPeriod` ends the dispute with the ruling it appealed
/// (round 0: ruling 0, refused to arbitrate). Anyone then executes the final ruling. Every fee paid for a
/// dispute is shared equally among the votes cast for its final ruling, in every round (pull: `withdraw`).
/// @dev Each dispute snapshots the panel (an epoch of the membership) and its quorum at creation, so a panel
/// change, which is AccessManaged behind the governance delay, never reaches an existing dispute.
interface IPanelArbitrator is IArbitrator {
    /// @notice Where a dispute stands inside the panel.
    enum Phase {
        None, // no such dispute
        Voting, // the current round is collecting votes
        Appealable, // the current round reached its votes: its ruling is provisional until the window ends
        Executed // the final ruling was passed to the arbitrable
    }

    /// @notice One dispute. `roundStart` is when the current round opened, `decidedAt` when it reached its
    /// votes (0 while voting).
    struct Dispute {
        address arbitrable;
        uint32 epoch;
        uint8 quorum; // k of the snapshotted panel
        uint8 size; // n of the snapshotted panel
        uint8 round;
        Phase phase;
        uint16 choices;
        uint16 ruling; // the current (provisional, then final) ruling
        uint40 roundStart;
        uint40 decidedAt;
        uint128 pot; // arbitration fee plus every appeal fee paid
        uint16 coherentVotes; // votes for the final ruling over all rounds, set at execution
        uint128 rewardPerVote; // set at execution
    }

    /// @notice The panel changed: from now on, new disputes use epoch `epoch`.
    event PanelSet(uint32 indexed epoch, address[] members, uint8 quorum);
    /// @notice `member` voted `ruling` in round `round` of dispute `disputeID`.
    event Voted(uint256 indexed disputeID, uint8 indexed round, address indexed member, uint256 ruling);
    /// @notice Round `round` of `disputeID` reached its votes for `ruling`.
    event RoundDecided(uint256 indexed disputeID, uint8 indexed round, uint256 ruling);
    /// @notice The final `ruling` of `disputeID` was executed; each coherent vote earned `rewardPerVote`.
    event RulingExecuted(uint256 indexed disputeID, uint256 ruling, uint256 rewardPerVote);
    /// @notice `account` was credited `amount` wei.
    event Credited(address indexed account, uint256 amount);
    /// @notice `account` withdrew `amount` wei to `to`.
    event Withdrawn(address indexed account, address indexed to, uint256 amount);

    /// @notice The panel is empty, larger than `MAX_MEMBERS`, has a duplicate or zero member, or its quorum is
    /// not a strict majority of it.
    error InvalidPanel();
    /// @notice `msg.value` is not the exact fee `expected`.
    error WrongFee(uint256 expected, uint256 paid);
    /// @notice A dispute needs 1..`MAX_CHOICES` choices.
    error InvalidChoices(uint256 choices);
    /// @notice No dispute `disputeID`.
    error UnknownDispute(uint256 disputeID);
    /// @notice The caller is not a member of the dispute's panel.
    error NotMember(address account);
    /// @notice The member is one of the dispute's parties.
    error PartyCannotVote(address member);
    /// @notice The dispute's current round is not collecting votes (decided, timed out or executed).
    error VotingClosed(uint256 disputeID);
    /// @notice The member already voted in this round.
    error AlreadyVoted(address member, uint8 round);
    /// @notice A ruling above the dispute's choices.
    error InvalidRuling(uint256 ruling, uint256 choices);
    /// @notice The dispute cannot be appealed now (not decided, window over, or its round was the last).
    error NotAppealable(uint256 disputeID);
    /// @notice The dispute's ruling is not final yet, or was already executed.
    error NotExecutable(uint256 disputeID);
    /// @notice Nothing to claim or withdraw.
    error NothingToWithdraw(address account);
    /// @notice The dispute's rewards for this member were already claimed.
    error AlreadyClaimed(uint256 disputeID, address member);
    /// @notice Sending ETH to `to` failed.
    error TransferFailed(address to);
    /// @notice A withdrawal to the zero address.
    error ZeroRecipient();
    /// @notice A zero appeal window or voting period.
    error InvalidPeriod();

    /// @notice Replaces the panel for future disputes (existing disputes keep theirs).
    /// @dev AccessManaged: governance, behind the manager's execution delay.
    function setPanel(address[] calldata members, uint8 quorum) external;

    /// @notice Votes `ruling` (0..choices) in the dispute's current round. Not by a party of the dispute.
    function vote(uint256 disputeID, uint256 ruling) external;

    /// @notice Passes the final ruling to the arbitrable (`IArbitrable.rule`) and fixes the members' rewards.
    /// Anyone, once the ruling is final: appeal window over, last round decided, or a round timed out.
    function executeRuling(uint256 disputeID) external;

    /// @notice Credits the caller's reward for every vote it cast for the dispute's executed final ruling.
    function claimReward(uint256 disputeID) external;

    /// @notice Sends the caller's whole credit to `to`.
    function withdraw(address payable to) external;

    /// @notice Seconds after a round reached its votes in which anyone may appeal.
    /// @return The window in seconds.
    function appealWindow() external view returns (uint256);

    /// @notice Seconds a round has to reach its votes before the dispute ends with the ruling it appealed.
    /// @return The period in seconds.
    function votingPeriod() external view returns (uint256);

    /// @notice The dispute as stored.
    /// @return The dispute.
    function dispute(uint256 disputeID) external view returns (Dispute memory);

    /// @notice The ruling `member` voted in `round` of `disputeID`, plus one (0: no vote).
    /// @return The vote plus one.
    function voteOf(uint256 disputeID, uint8 round, address member) external view returns (uint256);

    /// @notice How many members voted `ruling` in `round` of `disputeID`.
    /// @return The vote count.
    function votesFor(uint256 disputeID, uint8 round, uint256 ruling) external view returns (uint256);

    /// @notice Whether `account` sits on the panel of `epoch`.
    /// @return True if a member.
    function isMember(uint32 epoch, address account) external view returns (bool);

    /// @notice The current panel's epoch, members and quorum (what new disputes snapshot).
    /// @return epoch The current epoch.
    /// @return members The current members.
    /// @return quorum The current quorum.
    function panel() external view returns (uint32 epoch, address[] memory members, uint8 quorum);

    /// @notice The caller-independent credit of `account`.
    /// @return The credit in wei.
    function credit(address account) external view returns (uint256);
}
