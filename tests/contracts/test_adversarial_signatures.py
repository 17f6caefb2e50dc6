"""Replaying and bending inspectors' EIP-712 attestation signatures, beyond test_eip712_attestation.py (which
covers replay on the same order, another order id, another chain id, a signature made for another contract,
a wrong signer, expiry and a role revoked before signing).

Here: the same signature on a second deployment whose order has the same id and whose nonce is still 0; a
role revoked between signing and relaying (and re-granted); two signatures sharing a nonce; every signed
field altered; a high-s (malleated) twin; and a relayer racing another relayer.
"""

import brownie
import pytest

from conftest import DAY, DISPUTE_TIMEOUT, MIN_BOND, UNBONDING_DELAY, X25519_KEY, Orders, cid, err, profile
from pynode.protocol.types import Status
from scripts.brownie_deploy import deploy_contracts, grant_roles
from test_eip712_attestation import attestation, sign

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def test_attestBySig_replayed_on_a_second_deployment_reverts_with_InvalidSignature(
    book, orders, buyer, maker, stranger, admin, certifier, register_partner, signer
):
    """A second OrderBook (own registry) where order 1 is in the same state, the same inspector holds the
    role and its nonce is still 0: the signature relayed on the first book does not verify on the second
    (the domain binds verifyingContract) and consumes nothing there; one signed for the second does."""
    register_partner(maker)
    registry2, book2 = deploy_contracts(admin, MIN_BOND, UNBONDING_DELAY, DISPUTE_TIMEOUT)
    grant_roles(registry2, book2, admin, certifiers=[certifier], inspectors=[signer])
    registry2.register(profile(), X25519_KEY, {"from": maker, "value": MIN_BOND})
    registry2.vet(maker, cid("vetting"), {"from": certifier})
    first = orders.to_status(Status.SHIPPED, maker)
    second = Orders(book2, buyer).to_status(Status.SHIPPED, maker)
    assert first.order_id == second.order_id == 1
    att = attestation(1, signer)
    signature = sign(att, book)
    book.attestBySig(first.order, att, signature, {"from": stranger})

    with brownie.reverts(err("InvalidSignature", signer)):
        book2.attestBySig(second.order, att, signature, {"from": stranger})
    assert book2.nonces(signer) == 0 and book2.orderHash(1) == book2.hashOrder(second.order)
    book2.attestBySig(second.order, att, sign(att, book2), {"from": stranger})
    assert book2.nonces(signer) == 1


def test_attestBySig_after_role_revoked_reverts_until_regranted(book, orders, maker, stranger, admin, signer,
                                                                makers):
    """Signed while an inspector (nonces 0 and 1); the first is relayed, then the role is revoked. The second
    reverts and consumes nothing; the first stays in the order's chain. What the contract does on
    re-granting: the outstanding signature verifies again. Revocation stops relaying, it does not void
    signatures; an inspector voids one by letting its deadline pass or having its nonce used (next test)."""
    t = orders.to_status(Status.SHIPPED, maker)
    first, second = attestation(t.order_id, signer, nonce=0), attestation(t.order_id, signer, nonce=1)
    sig_first, sig_second = sign(first, book), sign(second, book)
    t.apply_tx(book.attestBySig(t.order, first, sig_first, {"from": stranger}))
    role = book.INSPECTOR_ROLE()
    book.revokeRole(role, signer, {"from": admin})

    with brownie.reverts(err("AccessControlUnauthorizedAccount", signer, role)):
        book.attestBySig(t.order, second, sig_second, {"from": stranger})
    assert book.nonces(signer) == 1
    orders.check(t)
    book.grantRole(role, signer, {"from": admin})
    t.apply_tx(book.attestBySig(t.order, second, sig_second, {"from": stranger}))
    orders.check(t)
    assert book.nonces(signer) == 2


def test_two_signatures_sharing_a_nonce_count_once(book, orders, maker, stranger, signer, makers):
    """A passing and a failing attestation signed with the same nonce: whichever is relayed first is recorded,
    the other is void (InvalidAccountNonce), so a relayer holding both cannot record both."""
    t = orders.to_status(Status.SHIPPED, maker)
    passing, failing = attestation(t.order_id, signer, passed=True), attestation(t.order_id, signer, passed=False)
    t.apply_tx(book.attestBySig(t.order, failing, sign(failing, book), {"from": stranger}))
    with brownie.reverts(err("InvalidAccountNonce", signer, 1)):
        book.attestBySig(t.order, passing, sign(passing, book), {"from": stranger})
    orders.check(t)


@pytest.mark.parametrize("field", ["inspector", "reportCid", "reportHash", "passed", "nonce", "deadline"])
def test_attestBySig_with_an_altered_field_reverts(book, orders, maker, stranger, inspector, signer, makers,
                                                   field):
    """Each signed field altered after signing (another inspector that holds the role too, other report, flipped
    verdict, later nonce, extended deadline) reverts; no nonce is consumed."""
    t = orders.to_status(Status.SHIPPED, maker)
    att = attestation(t.order_id, signer)
    signature = sign(att, book)
    i = ("orderId", "inspector", "reportCid", "reportHash", "passed", "nonce", "deadline").index(field)
    value = {"inspector": inspector.address, "reportCid": cid("other"), "reportHash": cid("other-sha"),
             "passed": not att[4], "nonce": 1, "deadline": att[6] + DAY}[field]
    altered = tuple(value if j == i else v for j, v in enumerate(att))
    expected = {"inspector": err("InvalidSignature", inspector),
                "nonce": err("InvalidAccountNonce", signer, 0)}.get(field, err("InvalidSignature", signer))
    with brownie.reverts(expected):
        book.attestBySig(t.order, altered, signature, {"from": stranger})
    assert book.nonces(signer) == book.nonces(inspector) == 0


def test_attestBySig_with_a_malleated_signature_reverts_with_InvalidSignature(book, orders, maker, stranger, signer,
                                                                               makers):
    """The high-s twin (r, n − s, flipped v) of a valid signature recovers the same signer mathematically, but
    OpenZeppelin's ECDSA rejects high s, so it is no second valid encoding to replay with."""
    t = orders.to_status(Status.SHIPPED, maker)
    att = attestation(t.order_id, signer)
    signature = bytes(sign(att, book))
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # 27 <-> 28
    with brownie.reverts(err("InvalidSignature", signer)):
        book.attestBySig(t.order, att, twin, {"from": stranger})
    book.attestBySig(t.order, att, signature, {"from": stranger})


def test_racing_relayers_record_the_inspector_once(book, orders, maker, stranger, signer, makers):
    """Whoever relays first, the record names the inspector, not the relayer; the slower relayer's transaction
    reverts on the now stale order (and, rebuilt, on the used nonce)."""
    t = orders.to_status(Status.SHIPPED, maker)
    att = attestation(t.order_id, signer)
    signature = sign(att, book)
    stale = t.order
    tx = book.attestBySig(t.order, att, signature, {"from": stranger})
    assert tx.events["QualityAttested"]["attester"] == signer
    t.apply_tx(tx)
    with brownie.reverts(err("OrderMismatch", t.order_id)):
        book.attestBySig(stale, att, signature, {"from": maker})
    with brownie.reverts(err("InvalidAccountNonce", signer, 1)):
        book.attestBySig(t.order, att, signature, {"from": maker})
    orders.check(t)
