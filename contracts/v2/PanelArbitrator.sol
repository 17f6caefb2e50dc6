// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {IArbitrable} from "@kleros/erc-792/contracts/IArbitrable.sol";

import {IArbitrableParties} from "./interfaces/IArbitrableParties.sol";
import {IPanelArbitrator} from "./interfaces/IPanelArbitrator.sol";

/// @title PanelArbitrator
/// @notice Reference ERC-792 arbitrator for fabmesh orders: a k-of-n panel with appeal rounds
/// (IPanelArbitrator has the rules; contracts/v2/README.md the arbitration section).
/// @dev Every loop is bounded by `MAX_MEMBERS` (members of a panel, and rounds of a dispute). State is written
/// before each external call: `disputeParties` is a staticcall, `rule` and the withdrawal come last.
contract PanelArbitrator is IPanelArbitrator, AccessManaged {
    /// @notice Most members a panel may have (so at most MAX_MEMBERS rounds per dispute).
    uint8 public constant MAX_MEMBERS = 15;
    /// @notice Most choices a dispute may have.
    uint256 public constant MAX_CHOICES = type(uint16).max;

    /// @inheritdoc IPanelArbitrator
    uint256 public immutable appealWindow;
    /// @inheritdoc IPanelArbitrator
    uint256 public immutable votingPeriod;
    uint256 private immutable _arbitrationFee;
    uint256 private immutable _appealFee;

    uint32 private _epoch;
    uint8 private _quorum;
    uint256 private _disputeCount;
    address[] private _members;

    mapping(uint32 epoch => mapping(address account => bool member)) private _isMember;
    mapping(uint256 disputeID => Dispute dispute) private _disputes;
    mapping(uint256 disputeID => mapping(uint8 round => mapping(address member => uint256 votePlusOne)))
        private _votes;
    mapping(uint256 disputeID => mapping(uint8 round => mapping(uint256 ruling => uint256 count))) private _counts;
    mapping(uint256 disputeID => mapping(address member => bool claimed)) private _claimed;
    mapping(address account => uint256 amount) private _credit;

    /// @notice Deploys the panel `members` with quorum `quorum` (a strict majority) under the AccessManager
    /// `authority`; fees are fixed for the contract's life.
    constructor(
        address authority,
        address[] memory members,
        uint8 quorum,
        uint96 arbitrationFee,
        uint96 appealFee,
        uint32 appealWindow_,
        uint32 votingPeriod_
    ) AccessManaged(authority) {
        if (appealWindow_ == 0 || votingPeriod_ == 0) revert InvalidPeriod();
        _arbitrationFee = arbitrationFee;
        _appealFee = appealFee;
        appealWindow = appealWindow_;
        votingPeriod = votingPeriod_;
        _setPanel(members, quorum);
    }

    /// @inheritdoc IPanelArbitrator
    function setPanel(address[] calldata members, uint8 quorum) external restricted {
        _setPanel(members, quorum);
    }

    /// @notice Opens a dispute with `choices` rulings besides 0; `msg.value` must be the arbitration cost.
    /// @return disputeID The new dispute's id (ids start at 1).
    function createDispute(uint256 choices, bytes calldata) external payable returns (uint256 disputeID) {
        if (msg.value != _arbitrationFee) revert WrongFee(_arbitrationFee, msg.value);
        if (choices == 0 || choices > MAX_CHOICES) revert InvalidChoices(choices);
        disputeID = ++_disputeCount;
        Dispute storage d = _disputes[disputeID];
        d.arbitrable = msg.sender;
        d.epoch = _epoch;
        d.quorum = _quorum;
        d.size = uint8(_members.length);
        d.phase = Phase.Voting;
        d.choices = uint16(choices);
        d.roundStart = uint40(block.timestamp);
        d.pot = uint128(msg.value);
        emit DisputeCreation(disputeID, IArbitrable(msg.sender));
    }

    /// @inheritdoc IPanelArbitrator
    function vote(uint256 disputeID, uint256 ruling) external {
        Dispute storage d = _existing(disputeID);
        if (d.phase != Phase.Voting || block.timestamp > uint256(d.roundStart) + votingPeriod) {
            revert VotingClosed(disputeID);
        }
        if (ruling > d.choices) revert InvalidRuling(ruling, d.choices);
        if (!_isMember[d.epoch][msg.sender]) revert NotMember(msg.sender);
        (address claimant, address respondent) = IArbitrableParties(d.arbitrable).disputeParties(disputeID);
        if (msg.sender == claimant || msg.sender == respondent) revert PartyCannotVote(msg.sender);
        uint8 round = d.round;
        if (_votes[disputeID][round][msg.sender] != 0) revert AlreadyVoted(msg.sender, round);

        _votes[disputeID][round][msg.sender] = ruling + 1;
        uint256 count = ++_counts[disputeID][round][ruling];
        emit Voted(disputeID, round, msg.sender, ruling);
        if (count == uint256(d.quorum) + round) {
            d.ruling = uint16(ruling);
            d.decidedAt = uint40(block.timestamp);
            d.phase = Phase.Appealable;
            emit RoundDecided(disputeID, round, ruling);
            if (_canAppealAfter(d)) emit AppealPossible(disputeID, IArbitrable(d.arbitrable));
        }
    }

    /// @notice Appeals the provisional ruling of `disputeID`: opens a round needing one more agreeing vote.
    /// Anyone, within the appeal window, paying exactly the appeal cost.
    function appeal(uint256 disputeID, bytes calldata) external payable {
        Dispute storage d = _existing(disputeID);
        if (!_appealable(d)) revert NotAppealable(disputeID);
        if (msg.value != _appealFee) revert WrongFee(_appealFee, msg.value);
        ++d.round;
        d.phase = Phase.Voting;
        d.roundStart = uint40(block.timestamp);
        d.decidedAt = 0;
        d.pot += uint128(msg.value);
        emit AppealDecision(disputeID, IArbitrable(d.arbitrable));
    }

    /// @inheritdoc IPanelArbitrator
    function executeRuling(uint256 disputeID) external {
        Dispute storage d = _existing(disputeID);
        if (!_final(d)) revert NotExecutable(disputeID);
        uint256 ruling = d.ruling;
        uint256 coherent = 0;
        for (uint8 r = 0; r <= d.round; ++r) {
            coherent += _counts[disputeID][r][ruling];
        }
        uint256 pot = d.pot;
        d.phase = Phase.Executed;
        if (coherent == 0) {
            // Only an undecided first round ends without a coherent vote (then no appeal fee was paid): the
            // arbitration fee goes back to the parties, half each.
            (address claimant, address respondent) = IArbitrableParties(d.arbitrable).disputeParties(disputeID);
            _addCredit(claimant, pot / 2);
            _addCredit(respondent, pot - pot / 2);
        } else {
            uint256 reward = pot / coherent;
            d.coherentVotes = uint16(coherent);
            d.rewardPerVote = uint128(reward);
            // The division's remainder (less than one wei per vote) goes to whoever executes.
            _addCredit(msg.sender, pot % coherent);
        }
        emit RulingExecuted(disputeID, ruling, d.rewardPerVote);
        IArbitrable(d.arbitrable).rule(disputeID, ruling);
    }

    /// @inheritdoc IPanelArbitrator
    function claimReward(uint256 disputeID) external {
        Dispute storage d = _existing(disputeID);
        if (d.phase != Phase.Executed) revert NotExecutable(disputeID);
        if (_claimed[disputeID][msg.sender]) revert AlreadyClaimed(disputeID, msg.sender);
        uint256 coherentVote = uint256(d.ruling) + 1;
        uint256 votes = 0;
        for (uint8 r = 0; r <= d.round; ++r) {
            if (_votes[disputeID][r][msg.sender] == coherentVote) ++votes;
        }
        if (votes == 0) revert NothingToWithdraw(msg.sender);
        _claimed[disputeID][msg.sender] = true;
        _addCredit(msg.sender, votes * d.rewardPerVote);
    }

    /// @inheritdoc IPanelArbitrator
    function withdraw(address payable to) external {
        if (to == address(0)) revert ZeroRecipient();
        uint256 amount = _credit[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _credit[msg.sender] = 0;
        emit Withdrawn(msg.sender, to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to);
    }

    /// @notice The fixed arbitration cost.
    /// @return cost The cost in wei.
    function arbitrationCost(bytes calldata) external view returns (uint256 cost) {
        return _arbitrationFee;
    }

    /// @notice The appeal cost while the dispute can be appealed, else type(uint256).max (ERC-792 custom).
    /// @return cost The cost in wei.
    function appealCost(uint256 disputeID, bytes calldata) external view returns (uint256 cost) {
        return _appealable(_existing(disputeID)) ? _appealFee : type(uint256).max;
    }

    /// @notice The current round's appeal window, or (0, 0) when no appeal is possible.
    /// @return start The window's first second.
    /// @return end The window's last second.
    function appealPeriod(uint256 disputeID) external view returns (uint256 start, uint256 end) {
        Dispute storage d = _existing(disputeID);
        if (d.phase == Phase.Appealable && _canAppealAfter(d)) return (d.decidedAt, d.decidedAt + appealWindow);
        return (0, 0);
    }

    /// @notice Waiting while voting, Appealable in the appeal window, Solved once the ruling is final.
    /// @return status The dispute's ERC-792 status.
    function disputeStatus(uint256 disputeID) external view returns (DisputeStatus status) {
        Dispute storage d = _existing(disputeID);
        if (d.phase == Phase.Executed || _final(d)) return DisputeStatus.Solved;
        return d.phase == Phase.Appealable ? DisputeStatus.Appealable : DisputeStatus.Waiting;
    }

    /// @notice The provisional ruling (0 before the first round decides), final once Solved.
    /// @return ruling The ruling.
    function currentRuling(uint256 disputeID) external view returns (uint256 ruling) {
        return _existing(disputeID).ruling;
    }

    /// @inheritdoc IPanelArbitrator
    function dispute(uint256 disputeID) external view returns (Dispute memory) {
        return _existing(disputeID);
    }

    /// @inheritdoc IPanelArbitrator
    function voteOf(uint256 disputeID, uint8 round, address member) external view returns (uint256) {
        return _votes[disputeID][round][member];
    }

    /// @inheritdoc IPanelArbitrator
    function votesFor(uint256 disputeID, uint8 round, uint256 ruling) external view returns (uint256) {
        return _counts[disputeID][round][ruling];
    }

    /// @inheritdoc IPanelArbitrator
    function isMember(uint32 epoch, address account) external view returns (bool) {
        return _isMember[epoch][account];
    }

    /// @inheritdoc IPanelArbitrator
    function panel() external view returns (uint32 epoch, address[] memory members, uint8 quorum) {
        return (_epoch, _members, _quorum);
    }

    /// @inheritdoc IPanelArbitrator
    function credit(address account) external view returns (uint256) {
        return _credit[account];
    }

    function _setPanel(address[] memory members, uint8 quorum) private {
        uint256 n = members.length;
        if (n == 0 || n > MAX_MEMBERS || 2 * uint256(quorum) <= n) revert InvalidPanel();
        uint32 epoch = _epoch + 1;
        delete _members;
        for (uint256 i = 0; i < n; ++i) {
            address member = members[i];
            if (member == address(0) || _isMember[epoch][member]) revert InvalidPanel();
            _isMember[epoch][member] = true;
            _members.push(member);
        }
        _epoch = epoch;
        _quorum = quorum;
        emit PanelSet(epoch, members, quorum);
    }

    function _addCredit(address account, uint256 amount) private {
        if (amount == 0) return;
        _credit[account] += amount;
        emit Credited(account, amount);
    }

    function _existing(uint256 disputeID) private view returns (Dispute storage d) {
        d = _disputes[disputeID];
        if (d.phase == Phase.None) revert UnknownDispute(disputeID);
    }

    /// @dev Whether the current round, once decided, may be appealed: the next one still fits the panel.
    function _canAppealAfter(Dispute storage d) private view returns (bool) {
        return uint256(d.quorum) + d.round + 1 <= d.size;
    }

    function _appealable(Dispute storage d) private view returns (bool) {
        return d.phase == Phase.Appealable && _canAppealAfter(d)
            && block.timestamp <= uint256(d.decidedAt) + appealWindow;
    }

    /// @dev Final: decided with no appeal left (window over or last round), or a round that timed out, which
    /// leaves the ruling it appealed (round 0: 0).
    function _final(Dispute storage d) private view returns (bool) {
        if (d.phase == Phase.Appealable) {
            return !_canAppealAfter(d) || block.timestamp > uint256(d.decidedAt) + appealWindow;
        }
        return d.phase == Phase.Voting && block.timestamp > uint256(d.roundStart) + votingPeriod;
    }
}
