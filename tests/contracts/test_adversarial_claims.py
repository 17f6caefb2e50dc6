"""Front-running and stealing claims; claims on substituted terms; eligibility lost between claim and award.

A claim is first come, first served, but only for a qualified claimant: every way of being unqualified
reverts, and the honest partner's claim then goes through. Once claimed or awarded, nobody but the awardee
(and the buyer, for its own steps) can move the order, and no caller can change its terms: the calldata
order must hash to the stored commitment, bit for bit.
"""

import brownie
import pytest
from brownie import chain

from conftest import CLAIM_BOND, DAY, PRICE, cid, err, now
from pynode.chain.orders import CERT, MATERIAL, PROCESS, ZERO_ADDRESS, make_spec, spec_hash
from pynode.protocol.types import Status

ISO_9001 = CERT["ISO_9001"]
HOUR = 3600


@pytest.fixture
def certified_maker(register_partner, maker):
    """The honest partner: vetted, with the capabilities and the ISO 9001 certification orders ask for."""
    register_partner(maker, certs=[(ISO_9001, now() + 30 * DAY)])
    return maker


def post_certified(orders, **kwargs):
    return orders.post(cert_ids=(ISO_9001,), **kwargs)


# ---------------------------------------------------------------- front-running


def test_qualified_front_runner_wins_and_the_late_claim_reverts(book, orders, maker, maker2, makers):
    """A qualified partner may claim first. The overtaken claim carries the stale order and reverts with
    OrderMismatch (or OrderNotOpen when rebuilt from events); its bond is not taken."""
    t = orders.post()
    stale = t.order
    orders.claim(t, maker2)
    before = maker.balance()
    with brownie.reverts(err("OrderMismatch", t.order_id)):
        book.claim(t.order_id, stale, t.spec, {"from": maker, "value": CLAIM_BOND})
    with brownie.reverts(err("OrderNotOpen", t.order_id)):
        book.claim(t.order_id, t.order, t.spec, {"from": maker, "value": CLAIM_BOND})
    assert maker.balance() == before and t.state.partner == maker2
    assert book.balance() == PRICE + CLAIM_BOND


def _unqualified(kind, registry, register_partner, front_runner, governor, certifier):
    """Prepares `front_runner` to fail the claim in way `kind`; returns the expected revert."""
    if kind == "not-registered":
        return err("NotRegistered", front_runner)
    if kind == "not-vetted":
        register_partner(front_runner, vet=False, certs=[(ISO_9001, now() + DAY)])
        return err("NotVetted", front_runner)
    if kind == "missing-capability":
        register_partner(front_runner, caps=PROCESS["FDM"], certs=[(ISO_9001, now() + DAY)])
        return err("CapabilityMismatch", front_runner, PROCESS["CNC_MILLING"], MATERIAL["AL_6061"])
    if kind == "missing-material":
        register_partner(front_runner, materials=MATERIAL["PLA"], certs=[(ISO_9001, now() + DAY)])
        return err("CapabilityMismatch", front_runner, PROCESS["CNC_MILLING"], MATERIAL["AL_6061"])
    if kind in ("no-cert", "expired-cert", "revoked-cert"):
        expiry = now() + (HOUR if kind == "expired-cert" else DAY)
        register_partner(front_runner, certs=[] if kind == "no-cert" else [(ISO_9001, expiry)])
        if kind == "expired-cert":
            chain.sleep(HOUR + 1)
        if kind == "revoked-cert":
            registry.revokeCertification(front_runner, ISO_9001, cid("revoked"), {"from": certifier})
        return err("CertificationMissing", front_runner, ISO_9001)
    register_partner(front_runner, certs=[(ISO_9001, now() + DAY)])
    if kind == "suspended":
        registry.suspend(front_runner, cid("fraud"), {"from": governor})
        return err("PartnerIsSuspended", front_runner)
    assert kind == "unbonding"
    registry.startUnbonding({"from": front_runner})
    return err("PartnerIsUnbonding", front_runner)


@pytest.mark.parametrize("kind", [
    "not-registered", "not-vetted", "missing-capability", "missing-material", "no-cert", "expired-cert",
    "revoked-cert", "suspended", "unbonding",
])
def test_unqualified_front_runner_reverts_and_the_honest_claim_succeeds(
    book, registry, orders, register_partner, certified_maker, stranger, governor, certifier, kind
):
    expected = _unqualified(kind, registry, register_partner, stranger, governor, certifier)
    t = post_certified(orders)
    before = stranger.balance()
    with brownie.reverts(expected):
        orders.claim(t, stranger)
    assert stranger.balance() == before
    orders.claim(t, certified_maker)
    assert t.status == Status.CLAIMED and t.state.partner == certified_maker
    assert book.balance() == PRICE + CLAIM_BOND


@pytest.mark.parametrize("kind", ["reserved", "buyer", "bond", "lax-spec"])
def test_front_runner_cannot_bend_the_claim_rules(book, orders, buyer, register_partner, certified_maker,
                                                  stranger, kind):
    """A fully qualified front-runner still cannot take an order reserved for someone else, the buyer cannot
    claim its own order, the bond cannot be underpaid, and a laxer spec is not the committed one."""
    register_partner(stranger, certs=[(ISO_9001, now() + DAY)])
    t = post_certified(orders, reserved_for=certified_maker.address if kind == "reserved" else ZERO_ADDRESS)
    lax = make_spec(t.docs, processes=0, materials=0)
    attempt = {
        "reserved": (stranger, t.spec, CLAIM_BOND, err("NotReservedPartner", t.order_id, certified_maker)),
        "buyer": (buyer, t.spec, CLAIM_BOND, err("BuyerCannotClaim", t.order_id)),
        "bond": (stranger, t.spec, CLAIM_BOND - 1, err("IncorrectPayment", CLAIM_BOND, CLAIM_BOND - 1)),
        "lax-spec": (stranger, lax, CLAIM_BOND, err("SpecHashMismatch", t.terms.spec_hash, spec_hash(lax))),
    }
    sender, spec, value, expected = attempt[kind]
    with brownie.reverts(expected):
        book.claim(t.order_id, t.order, spec, {"from": sender, "value": value})
    orders.claim(t, certified_maker)
    assert t.state.partner == certified_maker


# ----------------------------------------------------------- substituted terms


def _substitute(order, field, value):
    if field.startswith("state."):
        return order._replace(state=order.state._replace(**{field[6:]: value}))
    return order._replace(terms=order.terms._replace(**{field: value}))


@pytest.mark.parametrize("field,value", [
    ("buyer", "maker2"), ("token", "token"), ("price", 1), ("claim_bond", 0), ("claim_deadline", 60 * DAY),
    ("delivery_deadline", 90 * DAY), ("inspection_window", 1), ("fee_bps", 500), ("spec_hash", "lax"),
    ("state.partner", "maker"), ("state.stamp", 1), ("state.head", cid("forged")),
])
def test_claim_with_substituted_terms_reverts_with_OrderMismatch(book, orders, maker, maker2, makers, token,
                                                                 field, value):
    """A claimant that rewrites any field of the order (cheaper bond, later deadlines, laxer spec with its
    matching hash, itself as partner, ...) reverts: the order no longer hashes to the stored commitment."""
    t = orders.post()
    spec = t.spec
    value = {"maker2": maker2.address, "token": token.address, "maker": maker.address}.get(value, value)
    if field.endswith("_deadline"):
        value = t.terms.claim_deadline + value
    if value == "lax":
        spec = make_spec(t.docs, processes=0, materials=0)
        value = spec_hash(spec)
    forged = _substitute(t.order, field, value)
    bond = forged.terms.claim_bond
    with brownie.reverts(err("OrderMismatch", t.order_id)):
        book.claim(t.order_id, forged, spec, {"from": maker, "value": bond})
    orders.claim(t, maker)


def test_claim_with_another_orders_terms_reverts_with_OrderMismatch(book, orders, maker, makers):
    """The terms of a cheap order cannot be claimed under the id of a richer one."""
    cheap = orders.post(claim_bond=0)
    rich = orders.post(price=10 * PRICE)
    with brownie.reverts(err("OrderMismatch", rich.order_id)):
        book.claim(rich.order_id, cheap.order, cheap.spec, {"from": maker})


@pytest.mark.parametrize("word", [1, 3, 10], ids=["buyer", "price", "status"])
def test_claim_with_dirty_calldata_reverts_with_OrderMismatch(book, orders, maker, makers, word):
    """The same order with garbage in a field's unused high bits (which the ABI decoder would reject or
    mask) is hashed as raw calldata, so it cannot match the clean encoding stored at post."""
    t = orders.post()
    data = bytearray.fromhex(book.claim.encode_input(t.order_id, t.order, t.spec)[2:])
    data[4 + 32 * word] = 0x01  # the most significant byte of the field; word 0 is the order id
    with brownie.reverts(err("OrderMismatch", t.order_id)):
        maker.transfer(book, CLAIM_BOND, data="0x" + data.hex())
    orders.claim(t, maker)


# ------------------------------------------------------------- stealing orders


ATTEMPTS = {
    # name: (status the order is in, caller, call, args after (orderId, order), expected error)
    "claim-claimed": (Status.CLAIMED, "maker2", "claim", ("spec",), "OrderNotOpen"),
    "award-to-self": (Status.CLAIMED, "maker2", "award", (cid("envelope"),), "NotBuyer"),
    "claim-awarded": (Status.AWARDED, "maker2", "claim", ("spec",), "OrderNotOpen"),
    "re-award": (Status.AWARDED, "buyer", "award", (cid("envelope"),), "OrderNotClaimed"),
    "cancel-awarded": (Status.AWARDED, "buyer", "cancel", (), "OrderNotOpen"),
    "start": (Status.AWARDED, "maker2", "startProduction", (), "NotPartner"),
    "serials": (Status.IN_PRODUCTION, "stranger", "recordSerials", (cid("serials"),), "NotPartner"),
    "attest": (Status.IN_PRODUCTION, "maker2", "attest", (cid("qa"), cid("qa-sha"), True), "NotAttester"),
    "ship": (Status.IN_PRODUCTION, "maker2", "ship", (cid("qa"), cid("qa-sha")), "NotPartner"),
    "ship-by-buyer": (Status.AWARDED, "buyer", "ship", (cid("qa"), cid("qa-sha")), "NotPartner"),
    "refund-early": (Status.AWARDED, "stranger", "refund", (), "DeliveryDeadlineNotPassed"),
    "withdrawPayment": (Status.COMPLETED, "maker2", "withdrawPayment", (), "NotPartner"),
    "withdrawPayment-buyer": (Status.COMPLETED, "buyer", "withdrawPayment", (), "NotPartner"),
}


@pytest.mark.parametrize("attempt", list(ATTEMPTS))
def test_non_awardee_cannot_take_over_an_order(book, orders, maker, makers, request, attempt):
    """Claim, award, production, attestation, shipment, refund and payout of a claimed or awarded order, by
    anyone but the awardee (or by the buyer beyond its own steps), revert; the order is untouched and its
    partner carries on."""
    status, caller, fn, args, error = ATTEMPTS[attempt]
    t = orders.to_status(status, maker)
    sender = request.getfixturevalue(caller)
    args = tuple(t.spec if a == "spec" else a for a in args)
    expected = {
        "NotBuyer": err("NotBuyer", t.order_id, sender),
        "NotPartner": err("NotPartner", t.order_id, sender),
        "NotAttester": err("NotAttester", t.order_id, sender),
        "DeliveryDeadlineNotPassed": err("DeliveryDeadlineNotPassed", t.order_id, t.terms.delivery_deadline),
    }.get(error, err(error, t.order_id))
    value = CLAIM_BOND if fn == "claim" else 0
    with brownie.reverts(expected):
        getattr(book, fn)(t.order_id, t.order, *args, {"from": sender, "value": value})
    orders.check(t)
    if status == Status.COMPLETED:
        orders.call(t, "withdrawPayment", sender=maker)
    elif status == Status.CLAIMED:
        orders.award(t)
    else:
        orders.ship(t)
    assert t.state.partner == maker


@pytest.mark.parametrize("status", [Status.AWARDED, Status.COMPLETED])
def test_forged_partner_in_calldata_reverts_with_OrderMismatch(book, orders, maker, maker2, makers, status):
    """Naming oneself as the partner of an awarded or completed order does not make the caller its partner."""
    t = orders.to_status(status, maker)
    forged = _substitute(t.order, "state.partner", maker2.address)
    fn = "ship" if status == Status.AWARDED else "withdrawPayment"
    args = (cid("qa"), cid("qa-sha")) if fn == "ship" else ()
    with brownie.reverts(err("OrderMismatch", t.order_id)):
        getattr(book, fn)(t.order_id, forged, *args, {"from": maker2})


# --------------------------------------------- eligibility lost after the claim


@pytest.mark.parametrize("lapse", ["revoked", "expired", "suspended", "unbonding"])
def test_award_succeeds_after_the_claimant_lost_eligibility(registry, orders, certified_maker, governor,
                                                            certifier, lapse):
    """What the contract does: eligibility (vetting, capabilities, certifications, suspension, unbonding) is
    checked once, by `claim`, against the registry at the claim's block. `award`, `startProduction`, `ship`
    and the payout do not consult the registry. So a claimant whose certification is revoked or expires, or
    who is suspended or starts unbonding, between its claim and the award can still be awarded, produce and
    be paid: the award is the buyer's own decision and its client must re-check the claimant
    (`isCertified`, `partnerInfo`) before awarding; if the buyer declines, the claim lapses at the claim
    deadline (see the next test). The lost eligibility does block every new claim."""
    maker = certified_maker
    t = post_certified(orders)
    orders.claim(t, maker)
    if lapse == "revoked":
        registry.revokeCertification(maker, ISO_9001, cid("revoked"), {"from": certifier})
        expected = err("CertificationMissing", maker, ISO_9001)
    elif lapse == "expired":
        registry.certify(maker, ISO_9001, now() + HOUR, cid("short"), {"from": certifier})
        chain.sleep(HOUR + 1)
        chain.mine()
        expected = err("CertificationMissing", maker, ISO_9001)
    elif lapse == "suspended":
        registry.suspend(maker, cid("fraud"), {"from": governor})
        expected = err("PartnerIsSuspended", maker)
    else:
        registry.startUnbonding({"from": maker})
        expected = err("PartnerIsUnbonding", maker)
    if lapse in ("revoked", "expired"):
        assert not registry.isCertified(maker, ISO_9001)

    orders.award(t)
    orders.ship(t)
    orders.confirm(t)
    orders.call(t, "withdrawPayment", sender=maker)
    assert t.status == Status.PAID
    other = post_certified(orders)
    with brownie.reverts(expected):
        orders.claim(other, maker)


def test_declined_claim_of_a_decertified_partner_lapses_to_a_refund(book, registry, orders, buyer, certified_maker,
                                                                    stranger, certifier):
    """The buyer's recourse when a claimant is decertified before the award: it cannot cancel a claimed order
    or award anyone else, so it lets the claim lapse; after the claim deadline anyone refunds, the buyer gets
    the price and the partner its claim bond (RefundReason.NotAwarded)."""
    t = post_certified(orders)
    orders.claim(t, certified_maker)
    registry.revokeCertification(certified_maker, ISO_9001, cid("revoked"), {"from": certifier})
    with brownie.reverts(err("OrderNotOpen", t.order_id)):
        orders.call(t, "cancel", sender=buyer)
    chain.sleep(DAY + 1)
    orders.call(t, "refund", sender=stranger)
    assert t.status == Status.REFUNDED
    assert book.credits(buyer, ZERO_ADDRESS) == PRICE
    assert book.credits(certified_maker, ZERO_ADDRESS) == CLAIM_BOND
