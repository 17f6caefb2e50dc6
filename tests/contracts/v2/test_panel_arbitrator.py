"""PanelArbitrator (contracts/v2): k-of-n rounds, appeals, execution, rewards and every revert, against the
small PanelTestArbitrable (contracts/test/). 3 members, quorum 2: round 0 needs 2 agreeing votes, the appeal
round all 3 (the last)."""

import brownie
import pytest
from brownie import AccessManager, PanelArbitrator, PanelTestArbitrable

from tests.contracts.conftest import DAY, err, now

COST = 10**16
APPEAL_COST = 3 * 10**16
APPEAL_WINDOW = 2 * DAY
VOTING_PERIOD = 5 * DAY
CHOICES = 101
WAITING, APPEALABLE, SOLVED = 0, 1, 2
MAX_UINT = 2**256 - 1


@pytest.fixture(scope="module")
def members(accounts, admin):
    keys = ("0x" + f"{i:02x}" * 32 for i in (0x71, 0x72, 0x73))
    out = tuple(accounts.add(key) for key in keys)
    for member in out:
        admin.transfer(member, 10**19)
    return out


def pair(value):
    """A brownie two-value return as plain ints."""
    return tuple(int(v) for v in value)


@pytest.fixture(scope="module")
def panel_manager(admin):
    return AccessManager.deploy(admin, {"from": admin})


@pytest.fixture(scope="module")
def panel(panel_manager, members, admin):
    return PanelArbitrator.deploy(panel_manager, members, 2, COST, APPEAL_COST, APPEAL_WINDOW, VOTING_PERIOD,
                                  {"from": admin})


@pytest.fixture(scope="module")
def arbitrable(panel, admin):
    return PanelTestArbitrable.deploy(panel, {"from": admin})


@pytest.fixture
def raise_dispute(arbitrable, buyer, maker):
    def _raise(claimant=buyer, respondent=maker, choices=CHOICES):
        tx = arbitrable.raiseDispute(claimant, respondent, choices, {"from": buyer, "value": COST})
        return tx.return_value

    return _raise


def decide(panel, dispute_id, ruling, voters):
    for member in voters:
        panel.vote(dispute_id, ruling, {"from": member})


def test_deploy_rejects_bad_panels(panel_manager, members, admin, accounts):
    m1, m2, m3 = members
    bad = [([], 1), ([m1, m2], 1), ([m1, m2, m3], 1), ([m1, m1, m2], 2), ([m1, brownie.ZERO_ADDRESS, m2], 2),
           (list(accounts[:10]) * 2, 11)]  # empty, no strict majority (twice), duplicate, zero, above MAX_MEMBERS
    for panel_members, quorum in bad:
        with brownie.reverts(err("InvalidPanel")):
            PanelArbitrator.deploy(panel_manager, panel_members, quorum, COST, APPEAL_COST, APPEAL_WINDOW,
                                   VOTING_PERIOD, {"from": admin})
    for window, period in ((0, VOTING_PERIOD), (APPEAL_WINDOW, 0)):
        with brownie.reverts(err("InvalidPeriod")):
            PanelArbitrator.deploy(panel_manager, members, 2, COST, APPEAL_COST, window, period, {"from": admin})


def test_create_dispute_takes_the_exact_fee(panel, arbitrable, raise_dispute, buyer, maker):
    assert panel.arbitrationCost(b"") == COST
    for value in (COST - 1, COST + 1):
        with brownie.reverts(err("WrongFee", COST, value)):
            arbitrable.raiseDispute(buyer, maker, CHOICES, {"from": buyer, "value": value})
    for choices in (0, 2**16):
        with brownie.reverts(err("InvalidChoices", choices)):
            arbitrable.raiseDispute(buyer, maker, choices, {"from": buyer, "value": COST})
    dispute_id = raise_dispute()
    assert dispute_id == 1
    d = panel.dispute(dispute_id)
    assert (d["arbitrable"], d["epoch"], d["quorum"], d["size"], d["choices"], d["pot"]) == (
        arbitrable.address, 1, 2, 3, CHOICES, COST)
    assert panel.disputeStatus(dispute_id) == WAITING
    assert pair(panel.appealPeriod(dispute_id)) == (0, 0)
    assert panel.appealCost(dispute_id, b"") == MAX_UINT
    assert panel.balance() == COST
    for view in (panel.dispute, panel.disputeStatus, panel.currentRuling):
        with brownie.reverts(err("UnknownDispute", 9)):
            view(9)


def test_vote_reverts(panel, raise_dispute, members, buyer, maker, stranger):
    m1, m2, m3 = members
    dispute_id = raise_dispute(claimant=m3)  # a member who is a party
    with brownie.reverts(err("UnknownDispute", 9)):
        panel.vote(9, 1, {"from": m1})
    with brownie.reverts(err("NotMember", stranger)):
        panel.vote(dispute_id, 1, {"from": stranger})
    with brownie.reverts(err("PartyCannotVote", m3)):
        panel.vote(dispute_id, 1, {"from": m3})
    with brownie.reverts(err("InvalidRuling", CHOICES + 1, CHOICES)):
        panel.vote(dispute_id, CHOICES + 1, {"from": m1})
    panel.vote(dispute_id, 1, {"from": m1})
    with brownie.reverts(err("AlreadyVoted", m1, 0)):
        panel.vote(dispute_id, 2, {"from": m1})
    panel.vote(dispute_id, 1, {"from": m2})
    with brownie.reverts(err("VotingClosed", dispute_id)):
        panel.vote(dispute_id, 1, {"from": m3})


def test_ruling_appealed_and_overturned(panel, arbitrable, raise_dispute, members, stranger, auditor, chain):
    m1, m2, m3 = members
    dispute_id = raise_dispute()
    panel.vote(dispute_id, 2, {"from": m3})
    panel.vote(dispute_id, 1, {"from": m1})
    tx = panel.vote(dispute_id, 1, {"from": m2})  # 2 of 3 agree on ruling 1: provisional
    assert tx.events["RoundDecided"]["ruling"] == 1 and "AppealPossible" in tx.events
    decided = tx.timestamp
    assert panel.currentRuling(dispute_id) == 1
    assert panel.disputeStatus(dispute_id) == APPEALABLE
    assert pair(panel.appealPeriod(dispute_id)) == (decided, decided + APPEAL_WINDOW)
    assert panel.appealCost(dispute_id, b"") == APPEAL_COST
    with brownie.reverts(err("NotExecutable", dispute_id)):
        panel.executeRuling(dispute_id, {"from": stranger})
    with brownie.reverts(err("WrongFee", APPEAL_COST, COST)):
        panel.appeal(dispute_id, b"", {"from": stranger, "value": COST})

    tx = panel.appeal(dispute_id, b"", {"from": stranger, "value": APPEAL_COST})  # anyone may appeal
    assert "AppealDecision" in tx.events
    assert panel.disputeStatus(dispute_id) == WAITING and pair(panel.appealPeriod(dispute_id)) == (0, 0)
    assert panel.dispute(dispute_id)["round"] == 1
    with brownie.reverts(err("NotAppealable", dispute_id)):
        panel.appeal(dispute_id, b"", {"from": stranger, "value": APPEAL_COST})
    panel.vote(dispute_id, 2, {"from": m3})
    panel.vote(dispute_id, 2, {"from": m1})
    assert panel.dispute(dispute_id)["phase"] == 1  # 2 of 3 no longer suffice: the appeal round needs all 3
    tx = panel.vote(dispute_id, 2, {"from": m2})
    assert "AppealPossible" not in tx.events  # the last round is final at once
    assert panel.disputeStatus(dispute_id) == SOLVED and panel.currentRuling(dispute_id) == 2
    with brownie.reverts(err("NotAppealable", dispute_id)):
        panel.appeal(dispute_id, b"", {"from": stranger, "value": APPEAL_COST})
    assert panel.appealCost(dispute_id, b"") == MAX_UINT

    pot = COST + APPEAL_COST
    tx = panel.executeRuling(dispute_id, {"from": stranger})
    assert arbitrable.rulingPlusOne(dispute_id) == 3
    assert tx.events["Ruling"]["_ruling"] == 2
    # Coherent votes: m3 in both rounds, m1 and m2 in the appeal round.
    reward = pot // 4
    assert tx.events["RulingExecuted"]["rewardPerVote"] == reward
    assert panel.credit(stranger) == pot - 4 * reward
    with brownie.reverts(err("NotExecutable", dispute_id)):
        panel.executeRuling(dispute_id, {"from": stranger})

    for member, votes in ((m3, 2), (m1, 1), (m2, 1)):
        panel.claimReward(dispute_id, {"from": member})
        assert panel.credit(member) == votes * reward
    with brownie.reverts(err("AlreadyClaimed", dispute_id, m3)):
        panel.claimReward(dispute_id, {"from": m3})
    with brownie.reverts(err("NothingToWithdraw", auditor)):
        panel.claimReward(dispute_id, {"from": auditor})

    before = auditor.balance()
    with brownie.reverts(err("ZeroRecipient")):
        panel.withdraw(brownie.ZERO_ADDRESS, {"from": m3})
    panel.withdraw(auditor, {"from": m3})  # to a recipient of its choice
    assert auditor.balance() == before + 2 * reward
    assert panel.credit(m3) == 0
    with brownie.reverts(err("NothingToWithdraw", m3)):
        panel.withdraw(auditor, {"from": m3})


def test_incoherent_voter_earns_nothing(panel, raise_dispute, members, stranger, chain):
    m1, m2, m3 = members
    dispute_id = raise_dispute()
    decide(panel, dispute_id, 7, (m3,))
    decide(panel, dispute_id, 5, (m1, m2))
    chain.sleep(APPEAL_WINDOW + 1)
    chain.mine()
    assert panel.disputeStatus(dispute_id) == SOLVED
    assert pair(panel.appealPeriod(dispute_id))[1] < now()  # the window it had, now over
    with brownie.reverts(err("NotAppealable", dispute_id)):
        panel.appeal(dispute_id, b"", {"from": stranger, "value": APPEAL_COST})
    panel.executeRuling(dispute_id, {"from": stranger})
    with brownie.reverts(err("NothingToWithdraw", m3)):
        panel.claimReward(dispute_id, {"from": m3})
    panel.claimReward(dispute_id, {"from": m1})
    assert panel.credit(m1) == COST // 2


def test_appeal_round_that_times_out_keeps_the_appealed_ruling(panel, arbitrable, raise_dispute, members,
                                                                 stranger, chain):
    m1, m2, m3 = members
    dispute_id = raise_dispute()
    decide(panel, dispute_id, 1, (m1, m2))
    panel.appeal(dispute_id, b"", {"from": stranger, "value": APPEAL_COST})
    decide(panel, dispute_id, 2, (m3, m2))  # 2 of the 3 the appeal round needs
    chain.sleep(VOTING_PERIOD + 1)
    chain.mine()
    with brownie.reverts(err("VotingClosed", dispute_id)):
        panel.vote(dispute_id, 2, {"from": m1})
    assert panel.disputeStatus(dispute_id) == SOLVED and panel.currentRuling(dispute_id) == 1
    tx = panel.executeRuling(dispute_id, {"from": stranger})
    assert arbitrable.rulingPlusOne(dispute_id) == 2
    pot = COST + APPEAL_COST
    assert tx.events["RulingExecuted"]["rewardPerVote"] == pot // 2  # m1 and m2's first-round votes


def test_undecided_dispute_rules_0_and_refunds_the_parties(panel, arbitrable, raise_dispute, members, buyer,
                                                           maker, stranger, chain):
    m1, _, _ = members
    dispute_id = raise_dispute()
    panel.vote(dispute_id, 1, {"from": m1})
    closes = panel.dispute(dispute_id)["roundStart"] + VOTING_PERIOD
    chain.sleep(closes - now() - 5)
    with brownie.reverts(err("NotExecutable", dispute_id)):
        panel.executeRuling(dispute_id, {"from": stranger})
    chain.sleep(closes - now() + 1)
    chain.mine()
    panel.executeRuling(dispute_id, {"from": stranger})
    assert arbitrable.rulingPlusOne(dispute_id) == 1  # ruling 0: refused to arbitrate
    assert panel.credit(buyer) == COST // 2 and panel.credit(maker) == COST - COST // 2
    with brownie.reverts(err("NothingToWithdraw", m1)):
        panel.claimReward(dispute_id, {"from": m1})


def test_ruling_the_arbitrable_refuses_stays_executable(panel, arbitrable, raise_dispute, members, stranger,
                                                        chain):
    m1, m2, _ = members
    dispute_id = raise_dispute()
    decide(panel, dispute_id, 1, (m1, m2))
    chain.sleep(APPEAL_WINDOW + 1)
    arbitrable.setRefuseRulings(True, {"from": stranger})
    with brownie.reverts(err("Refused")):
        panel.executeRuling(dispute_id, {"from": stranger})
    with brownie.reverts(err("NotExecutable", dispute_id)):
        panel.claimReward(dispute_id, {"from": m1})
    arbitrable.setRefuseRulings(False, {"from": stranger})
    panel.executeRuling(dispute_id, {"from": stranger})
    assert arbitrable.rulingPlusOne(dispute_id) == 2


def test_panel_change_is_restricted_and_spares_existing_disputes(panel, raise_dispute, members, admin,
                                                                 stranger, auditor):
    m1, m2, m3 = members
    old = raise_dispute()
    with brownie.reverts(err("AccessManagedUnauthorized", stranger)):
        panel.setPanel([m1, auditor, stranger], 2, {"from": stranger})
    with brownie.reverts(err("InvalidPanel")):
        panel.setPanel([m1, auditor], 1, {"from": admin})
    tx = panel.setPanel([m1, auditor, stranger], 2, {"from": admin})  # the manager's admin, here without delay
    assert tx.events["PanelSet"]["epoch"] == 2
    epoch, current, quorum = panel.panel()
    assert (epoch, list(current), quorum) == (2, [m1, auditor, stranger], 2)
    assert panel.isMember(1, m3) and not panel.isMember(2, m3) and panel.isMember(2, auditor)
    new = raise_dispute()
    with brownie.reverts(err("NotMember", auditor)):
        panel.vote(old, 1, {"from": auditor})
    panel.vote(old, 1, {"from": m3})  # the old dispute keeps the panel it was raised before
    with brownie.reverts(err("NotMember", m3)):
        panel.vote(new, 1, {"from": m3})
    panel.vote(new, 1, {"from": auditor})
