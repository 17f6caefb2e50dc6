"""Quality attestations: direct (partner or inspector) and EIP-712 signed by an inspector, relayed by anyone."""

import brownie
import pytest
from brownie import OrderBook, chain
from eth_account import Account
from eth_account.messages import encode_typed_data

from conftest import DAY, DISPUTE_TIMEOUT, SIGNER_KEY, cid, err, now
from pynode.chain.orders import next_head, report_evidence
from pynode.protocol.types import RecordKind, Status

ATTESTATION_TYPES = {
    "Attestation": [
        {"name": "orderId", "type": "uint256"},
        {"name": "inspector", "type": "address"},
        {"name": "reportCid", "type": "bytes32"},
        {"name": "reportHash", "type": "bytes32"},
        {"name": "passed", "type": "bool"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


def attestation(order_id, inspector, nonce=0, passed=True, deadline=None):
    return (order_id, inspector.address, cid("inspection"), cid("inspection-sha256"), passed, nonce,
            deadline if deadline is not None else now() + DAY)


def sign(att, verifying_contract, chain_id=None, key=SIGNER_KEY):
    message = dict(zip([f["name"] for f in ATTESTATION_TYPES["Attestation"]], att))
    typed = encode_typed_data(
        domain_data={"name": "fabmesh OrderBook", "version": "1", "chainId": chain_id or chain.id,
                     "verifyingContract": str(verifying_contract)},
        message_types=ATTESTATION_TYPES,
        message_data=message,
    )
    return Account.sign_message(typed, key).signature


# -------------------------------------------------------------- attestBySig


def test_attestationDigest_matches_eth_account(book, signer):
    att = attestation(1, signer)
    message = dict(zip([f["name"] for f in ATTESTATION_TYPES["Attestation"]], att))
    typed = encode_typed_data(
        domain_data={"name": "fabmesh OrderBook", "version": "1", "chainId": chain.id,
                     "verifyingContract": book.address},
        message_types=ATTESTATION_TYPES, message_data=message,
    )
    from eth_account.messages import _hash_eip191_message

    assert book.attestationDigest(att) == "0x" + _hash_eip191_message(typed).hex()


@pytest.mark.parametrize("passed", [True, False])
def test_attestBySig_succeeds_relayed_by_anyone(book, registry, orders, maker, stranger, signer, makers, passed):
    t = orders.to_status(Status.SHIPPED, maker)
    att = attestation(t.order_id, signer, passed=passed)
    tx = book.attestBySig(t.order, att, sign(att, book), {"from": stranger})
    ev = tx.events["QualityAttested"]
    assert (ev["orderId"], ev["attester"], ev["passed"]) == (t.order_id, signer, passed)
    prev = t.head
    t.apply_tx(tx)
    orders.check(t)
    assert t.head == next_head(prev, RecordKind.QUALITY_ATTESTED, signer.address,
                               report_evidence(cid("inspection"), cid("inspection-sha256"), passed), tx.timestamp)
    assert book.nonces(signer) == 1
    assert registry.partnerInfo(maker).dict()["failedQa"] == (0 if passed else 1)


def test_attestBySig_succeeds_while_disputed(book, orders, maker, stranger, signer, makers):
    t = orders.to_status(Status.DISPUTED, maker)
    att = attestation(t.order_id, signer)
    t.apply_tx(book.attestBySig(t.order, att, sign(att, book), {"from": stranger}))
    orders.check(t)


def test_attestBySig_reverts_with_InvalidAccountNonce_on_replay(book, orders, maker, stranger, signer, makers):
    t = orders.to_status(Status.SHIPPED, maker)
    att = attestation(t.order_id, signer)
    signature = sign(att, book)
    t.apply_tx(book.attestBySig(t.order, att, signature, {"from": stranger}))
    with brownie.reverts(err("InvalidAccountNonce", signer, 1)):
        book.attestBySig(t.order, att, signature, {"from": stranger})


def test_attestBySig_reverts_with_InvalidSignature_for_other_order(book, orders, maker, stranger, signer, makers):
    first = orders.to_status(Status.SHIPPED, maker)
    second = orders.to_status(Status.SHIPPED, maker)
    att = attestation(first.order_id, signer)
    signature = sign(att, book)
    moved = (second.order_id, *att[1:])
    with brownie.reverts(err("InvalidSignature", signer)):
        book.attestBySig(second.order, moved, signature, {"from": stranger})


def test_attestBySig_reverts_with_InvalidSignature_across_chain_id(book, orders, maker, stranger, signer, makers):
    t = orders.to_status(Status.SHIPPED, maker)
    att = attestation(t.order_id, signer)
    with brownie.reverts(err("InvalidSignature", signer)):
        book.attestBySig(t.order, att, sign(att, book, chain_id=chain.id + 1), {"from": stranger})


def test_attestBySig_reverts_with_InvalidSignature_across_contracts(
    book, registry, orders, maker, stranger, signer, admin, makers
):
    other = OrderBook.deploy(admin, registry, DISPUTE_TIMEOUT, {"from": admin})
    t = orders.to_status(Status.SHIPPED, maker)
    att = attestation(t.order_id, signer)
    with brownie.reverts(err("InvalidSignature", signer)):
        book.attestBySig(t.order, att, sign(att, other), {"from": stranger})


def test_attestBySig_reverts_with_InvalidSignature_for_wrong_signer(book, orders, maker, stranger, signer, makers):
    t = orders.to_status(Status.SHIPPED, maker)
    att = attestation(t.order_id, signer)
    with brownie.reverts(err("InvalidSignature", signer)):
        book.attestBySig(t.order, att, sign(att, book, key="0x" + "43" * 32), {"from": stranger})


def test_attestBySig_reverts_with_SignatureExpired(book, orders, maker, stranger, signer, makers):
    t = orders.to_status(Status.SHIPPED, maker)
    deadline = now() - 1
    att = attestation(t.order_id, signer, deadline=deadline)
    with brownie.reverts(err("SignatureExpired", deadline)):
        book.attestBySig(t.order, att, sign(att, book), {"from": stranger})


def test_attestBySig_reverts_with_AccessControlUnauthorizedAccount(book, orders, maker, stranger, signer, admin,
                                                                    makers):
    book.revokeRole(book.INSPECTOR_ROLE(), signer, {"from": admin})
    t = orders.to_status(Status.SHIPPED, maker)
    att = attestation(t.order_id, signer)
    with brownie.reverts(err("AccessControlUnauthorizedAccount", signer, book.INSPECTOR_ROLE())):
        book.attestBySig(t.order, att, sign(att, book), {"from": stranger})


@pytest.mark.parametrize("status", [Status.OPEN, Status.CLAIMED, Status.COMPLETED])
def test_attestBySig_reverts_with_OrderNotAttestable(book, orders, maker, stranger, signer, makers, status):
    t = orders.to_status(status, maker)
    att = attestation(t.order_id, signer)
    with brownie.reverts(err("OrderNotAttestable", t.order_id)):
        book.attestBySig(t.order, att, sign(att, book), {"from": stranger})


def test_attestBySig_reverts_with_OrderMismatch(book, orders, maker, stranger, signer, makers):
    t = orders.to_status(Status.SHIPPED, maker)
    att = attestation(t.order_id + 1, signer)
    with brownie.reverts(err("OrderMismatch", t.order_id + 1)):
        book.attestBySig(t.order, att, sign(att, book), {"from": stranger})


# ------------------------------------------------------------------- attest


@pytest.mark.parametrize("passed", [True, False])
def test_attest_succeeds_by_partner(registry, orders, maker, makers, passed):
    t = orders.to_status(Status.IN_PRODUCTION, maker)
    tx = orders.call(t, "attest", cid("qa"), cid("qa-sha"), passed, sender=maker)
    assert tx.events["QualityAttested"]["attester"] == maker
    assert t.status == Status.IN_PRODUCTION
    assert registry.partnerInfo(maker).dict()["failedQa"] == (0 if passed else 1)


@pytest.mark.parametrize("status", [Status.AWARDED, Status.SHIPPED, Status.DISPUTED])
def test_attest_succeeds_by_inspector(orders, maker, inspector, makers, status):
    t = orders.to_status(status, maker)
    tx = orders.call(t, "attest", cid("qa"), cid("qa-sha"), True, sender=inspector)
    assert tx.events["QualityAttested"]["attester"] == inspector
    assert t.status == status


def test_attest_reverts_with_NotAttester(orders, maker, stranger, makers):
    t = orders.to_status(Status.AWARDED, maker)
    with brownie.reverts(err("NotAttester", t.order_id, stranger)):
        orders.call(t, "attest", cid("qa"), cid("qa-sha"), True, sender=stranger)


def test_attest_reverts_with_OrderNotInProgress(orders, maker, makers):
    t = orders.to_status(Status.SHIPPED, maker)
    with brownie.reverts(err("OrderNotInProgress", t.order_id)):
        orders.call(t, "attest", cid("qa"), cid("qa-sha"), True, sender=maker)


# OrderBook checks attestability as a range of OrderStatus; this pins the set it must mean, whatever the
# enum order: inspectors attest from award until settlement.
@pytest.mark.parametrize("status", [Status.OPEN, Status.CLAIMED, Status.AWARDED, Status.IN_PRODUCTION, Status.SHIPPED,
                                    Status.DISPUTED, Status.COMPLETED, Status.PAID, Status.CANCELLED])
def test_attest_by_inspector_is_accepted_exactly_from_award_until_settlement(orders, maker, inspector, makers,
                                                                             status):
    t = orders.to_status(Status.COMPLETED if status == Status.PAID else
                         Status.OPEN if status == Status.CANCELLED else status, maker)
    if status == Status.PAID:
        orders.call(t, "withdrawPayment", sender=maker)
    elif status == Status.CANCELLED:
        orders.call(t, "cancel", sender=orders.buyer)
    assert t.status == status
    if status in (Status.AWARDED, Status.IN_PRODUCTION, Status.SHIPPED, Status.DISPUTED):
        tx = orders.call(t, "attest", cid("qa"), cid("qa-sha"), True, sender=inspector)
        assert tx.events["QualityAttested"]["attester"] == inspector
    else:
        with brownie.reverts(err("OrderNotAttestable", t.order_id)):
            orders.call(t, "attest", cid("qa"), cid("qa-sha"), True, sender=inspector)


def test_attest_reverts_with_OrderNotAttestable(orders, maker, inspector, makers, chain):
    t = orders.to_status(Status.CLAIMED, maker)
    with brownie.reverts(err("OrderNotAttestable", t.order_id)):
        orders.call(t, "attest", cid("qa"), cid("qa-sha"), True, sender=inspector)
