"""PanelArbitrator (contracts/v2): k-of-n rounds, appeals, execution, rewards and every revert, against the
small PanelTestArbitrable (contracts/test/), then end to end as the arbitrator an OrderBookV2 order names.
3 members, quorum 2: round 0 needs 2 agreeing votes, the appeal round all 3 (the last)."""

import brownie
import pytest
from brownie import AccessManager, EthRejecter, PanelArbitrator, PanelTestArbitrable

from scripts.book_v2 import ZERO
from tests.contracts.conftest import DAY, err, now
from tests.contracts.v2.book_fixtures import *  # noqa: F403 (fixtures)

COST = 10**16
APPEAL_COST = 3 * 10**16
APPEAL_WINDOW = 2 * DAY
VOTING_PERIOD = 5 * DAY
CHOICES = 101
WAITING, APPEALABLE, SOLVED = 0, 1, 2
MAX_UINT = 2**256 - 1


@pytest.fixture(scope="module")
def members(accounts, admin):
    keys = ("0x" + f"{i:02x}" * 32 for i in (0xb1, 0xb2, 0xb3))
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


def test_deploy_rejects_bad_panels(panel_manager, members, admin):
    m1, m2, m3 = members
    sixteen = ["0x" + f"{i:040x}" for i in range(1, 17)]
    bad = [([], 1), ([m1, m2], 1), ([m1, m2, m3], 1), ([m1, m1, m2], 2), ([m1, brownie.ZERO_ADDRESS, m2], 2),
           (sixteen, 9)]  # empty, no strict majority (twice), duplicate, zero, above MAX_MEMBERS
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
    rejecter = EthRejecter.deploy({"from": m1})
    with brownie.reverts(err("TransferFailed", rejecter)):  # the credit stays
        panel.withdraw(rejecter, {"from": m1})
    assert panel.credit(m1) == reward


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
    m1, _, m3 = members
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


# ------------------------------------------------------------------ end to end with OrderBookV2
# The order book of scripts/deploy_v2.py names the panel in an order's terms; the book's disputes reach it.

FULL_TO_BUYER, NOTHING_TO_BUYER = 101, 1  # ruling r gives the buyer (r - 1) % of the price


@pytest.fixture(scope="module")
def book_panel(manager, members, admin):
    return PanelArbitrator.deploy(manager, members, 2, COST, APPEAL_COST, APPEAL_WINDOW, VOTING_PERIOD,
                                  {"from": admin})


@pytest.fixture
def disputed(v2, book_panel, partner):
    """An order naming the panel, shipped, disputed with the buyer's fee deposit."""
    t = v2.post(book_panel)
    v2.award(t, partner)
    v2.ship(t)
    v2.dispute(t, COST)
    return t


def test_book_partner_not_matching_the_fee_loses_by_default(v2, book, book_panel, disputed, buyer, stranger,
                                                            chain):
    t = disputed
    assert book.balance() >= t.state.price + COST
    chain.sleep(book.FEE_RESPONSE_WINDOW() + 1)
    with brownie.reverts(err("FeeResponseWindowClosed", t.state.stamp + book.FEE_RESPONSE_WINDOW())):
        v2.pay_fee(t, COST)
    v2.claim_default(t, stranger)
    assert book.credits(buyer, ZERO) == t.state.price + t.state.bond + COST
    with brownie.reverts(err("UnknownDispute", 1)):  # the panel never saw a dispute
        book_panel.dispute(1)


def test_book_dispute_expires_without_a_ruling(v2, book, book_panel, disputed, buyer, stranger, chain):
    t = disputed
    tx = v2.pay_fee(t, COST)
    dispute_id = tx.events["ArbitrationCreated"]["disputeId"]
    d = book_panel.dispute(dispute_id)
    assert (d["arbitrable"], d["pot"], d["choices"]) == (book.address, COST, book.RULING_OPTIONS())
    assert book_panel.balance() == COST
    chain.sleep(t.terms.dispute_timeout + 1)
    v2.settle_expired(t, stranger)
    assert book.credits(buyer, ZERO) == t.state.price // 2 + COST // 2


def test_book_ruling_appealed_overturned_and_executed(v2, book, book_panel, disputed, members, partner, stranger):
    m1, m2, m3 = members
    t = disputed
    dispute_id = v2.pay_fee(t, COST).events["ArbitrationCreated"]["disputeId"]
    decide(book_panel, dispute_id, FULL_TO_BUYER, (m1, m2))
    book_panel.appeal(dispute_id, b"", {"from": partner.account, "value": APPEAL_COST})  # the losing side
    decide(book_panel, dispute_id, NOTHING_TO_BUYER, (m1, m2, m3))
    with brownie.reverts(err("NotRuled", t.order_id)):
        book.executeRuling(t.packed, {"from": stranger})
    book_panel.executeRuling(dispute_id, {"from": stranger})
    assert book.arbitration(t.order_id)["ruling"] == NOTHING_TO_BUYER
    v2.execute_ruling(t, stranger, 0, False)
    for m in members:
        book_panel.claimReward(dispute_id, {"from": m})
    assert book_panel.credit(m1) == (COST + APPEAL_COST) // 3


def test_book_party_on_the_panel_cannot_vote(v2, book_panel, members, partner):
    m1, _, _ = members
    t = v2.post(book_panel, buyer=m1)
    v2.award(t, partner)
    v2.ship(t)
    v2.dispute(t, COST, sender=m1)
    dispute_id = v2.pay_fee(t, COST).events["ArbitrationCreated"]["disputeId"]
    with brownie.reverts(err("PartyCannotVote", m1)):
        book_panel.vote(dispute_id, FULL_TO_BUYER, {"from": m1})
