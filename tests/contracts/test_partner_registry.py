import brownie
import pytest
from brownie import EthRejecter, PartnerRegistry, chain

from conftest import (
    CAPS,
    DAY,
    MATS,
    MIN_BOND,
    UNBONDING_DELAY,
    X25519_KEY,
    XWING_KEY,
    cid,
    err,
    now,
    profile,
)
from pynode.chain.orders import CERT, MATERIAL, PROCESS, ZERO_ADDRESS, keccak

REGISTERED, VETTED, SUSPENDED, UNBONDING = 1, 2, 4, 8
ISO_9001 = CERT["ISO_9001"]
AS9100 = CERT["AS9100"]


def info(registry, partner):
    return registry.partnerInfo(partner).dict()


def role_error(account, role):
    return err("AccessControlUnauthorizedAccount", account, role)


# ------------------------------------------------------------------ deploy


def test_constructor_reverts_with_ZeroAddress(admin, book):
    with brownie.reverts(err("ZeroAddress")):
        PartnerRegistry.deploy(ZERO_ADDRESS, book, MIN_BOND, UNBONDING_DELAY, {"from": admin})
    with brownie.reverts(err("ZeroAddress")):
        PartnerRegistry.deploy(admin, ZERO_ADDRESS, MIN_BOND, UNBONDING_DELAY, {"from": admin})


def test_constructor_succeeds(registry, book, admin):
    assert registry.minBond() == MIN_BOND
    assert registry.unbondingDelay() == UNBONDING_DELAY
    assert registry.orderBook() == book
    assert registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), admin)


# ---------------------------------------------------------------- register


def test_register_succeeds(registry, maker):
    tx = registry.register(profile(), X25519_KEY, {"from": maker, "value": MIN_BOND})
    ev = tx.events["PartnerRegistered"]
    assert ev["partner"] == maker and ev["bond"] == MIN_BOND and ev["encryptionKey"] == "0x" + X25519_KEY.hex()
    assert tuple(ev["profile"])[:2] == (CAPS, MATS)
    i = info(registry, maker)
    assert i["flags"] == REGISTERED and i["bond"] == MIN_BOND
    assert i["capabilities"] == CAPS and i["materials"] == MATS and i["capacity"] == 100
    assert i["encryptionKeyHash"] == "0x" + keccak(X25519_KEY).hex()
    assert i["profileCid"] == "0x" + keccak(b"profile").hex()
    assert registry.balance() == MIN_BOND


def test_register_succeeds_with_hybrid_key(registry, maker):
    registry.register(profile(), XWING_KEY, {"from": maker, "value": MIN_BOND})
    assert info(registry, maker)["encryptionKeyHash"] == "0x" + keccak(XWING_KEY).hex()


def test_register_reverts_with_AlreadyRegistered(registry, maker):
    registry.register(profile(), X25519_KEY, {"from": maker, "value": MIN_BOND})
    with brownie.reverts(err("AlreadyRegistered", maker)):
        registry.register(profile(), X25519_KEY, {"from": maker, "value": MIN_BOND})


def test_register_reverts_with_BondTooLow(registry, maker):
    with brownie.reverts(err("BondTooLow", MIN_BOND - 1, MIN_BOND)):
        registry.register(profile(), X25519_KEY, {"from": maker, "value": MIN_BOND - 1})


@pytest.mark.parametrize("key", [
    b"", b"\x01" * 32, b"\x01" * 34, b"\x01" * 1216, b"\x02" * 1218,
    b"\x02" + b"\x11" * 32,  # X25519 length with the X-Wing suite byte
    b"\x01" + b"\x22" * 1216,  # X-Wing length with the X25519 suite byte
    b"\x00" + b"\x11" * 32,  # unknown suite
])
def test_register_reverts_with_InvalidEncryptionKey(registry, maker, key):
    with brownie.reverts(err("InvalidEncryptionKey", len(key))):
        registry.register(profile(), key, {"from": maker, "value": MIN_BOND})


# ----------------------------------------------------------- updateProfile


def test_updateProfile_succeeds_and_keeps_vetting_for_same_capabilities(registry, register_partner, maker):
    register_partner(maker)
    new = profile(region="u33e", capacity=7, seed=b"profile-2")
    tx = registry.updateProfile(new, {"from": maker})
    assert tx.events["PartnerProfileUpdated"]["vettingCleared"] is False
    i = info(registry, maker)
    assert i["flags"] == REGISTERED | VETTED and i["capacity"] == 7
    assert i["profileCid"] == "0x" + keccak(b"profile-2").hex()


def test_updateProfile_succeeds_and_clears_vetting_for_new_capabilities(registry, register_partner, maker):
    register_partner(maker)
    tx = registry.updateProfile(profile(caps=CAPS | PROCESS["DMLS"]), {"from": maker})
    assert tx.events["PartnerProfileUpdated"]["vettingCleared"] is True
    assert info(registry, maker)["flags"] == REGISTERED
    assert info(registry, maker)["capabilities"] == CAPS | PROCESS["DMLS"]


def test_updateProfile_reverts_with_NotRegistered(registry, stranger):
    with brownie.reverts(err("NotRegistered", stranger)):
        registry.updateProfile(profile(), {"from": stranger})


# ----------------------------------------------------- rotateEncryptionKey


def test_rotateEncryptionKey_succeeds(registry, register_partner, maker):
    register_partner(maker)
    tx = registry.rotateEncryptionKey(XWING_KEY, {"from": maker})
    assert tx.events["EncryptionKeyRotated"]["encryptionKey"] == "0x" + XWING_KEY.hex()
    assert info(registry, maker)["encryptionKeyHash"] == "0x" + keccak(XWING_KEY).hex()


def test_rotateEncryptionKey_reverts_with_NotRegistered(registry, stranger):
    with brownie.reverts(err("NotRegistered", stranger)):
        registry.rotateEncryptionKey(X25519_KEY, {"from": stranger})


def test_rotateEncryptionKey_reverts_with_InvalidEncryptionKey(registry, register_partner, maker):
    register_partner(maker)
    with brownie.reverts(err("InvalidEncryptionKey", 64)):
        registry.rotateEncryptionKey(b"\x01" * 64, {"from": maker})


# ------------------------------------------------- unbonding and withdrawal


def test_startUnbonding_succeeds(registry, register_partner, maker):
    register_partner(maker)
    tx = registry.startUnbonding({"from": maker})
    ready = tx.timestamp + UNBONDING_DELAY
    assert tx.events["UnbondingStarted"]["readyAt"] == ready
    i = info(registry, maker)
    assert i["flags"] & UNBONDING and i["unbondingReadyAt"] == ready


def test_startUnbonding_reverts_with_NotRegistered(registry, stranger):
    with brownie.reverts(err("NotRegistered", stranger)):
        registry.startUnbonding({"from": stranger})


def test_startUnbonding_reverts_with_PartnerIsUnbonding(registry, register_partner, maker):
    register_partner(maker)
    registry.startUnbonding({"from": maker})
    with brownie.reverts(err("PartnerIsUnbonding", maker)):
        registry.startUnbonding({"from": maker})


def test_withdrawBond_succeeds(registry, register_partner, maker):
    register_partner(maker)
    registry.startUnbonding({"from": maker})
    chain.sleep(UNBONDING_DELAY + 1)
    before = maker.balance()
    tx = registry.withdrawBond({"from": maker})
    assert tx.events["BondWithdrawn"]["amount"] == MIN_BOND
    assert maker.balance() == before + MIN_BOND
    assert registry.balance() == 0
    i = info(registry, maker)
    assert i["flags"] == 0 and i["bond"] == 0 and i["unbondingReadyAt"] == 0


def test_withdrawBond_reverts_with_NotUnbonding(registry, register_partner, maker):
    register_partner(maker)
    with brownie.reverts(err("NotUnbonding", maker)):
        registry.withdrawBond({"from": maker})


def test_withdrawBond_reverts_with_UnbondingNotElapsed(registry, register_partner, maker):
    register_partner(maker)
    tx = registry.startUnbonding({"from": maker})
    with brownie.reverts(err("UnbondingNotElapsed", tx.timestamp + UNBONDING_DELAY)):
        registry.withdrawBond({"from": maker})


def test_withdrawBond_reverts_with_EthTransferFailed(registry, admin):
    rejecter = EthRejecter.deploy({"from": admin})
    rejecter.execute(registry, registry.register.encode_input(profile(), X25519_KEY), {"value": MIN_BOND})
    rejecter.execute(registry, registry.startUnbonding.encode_input(), {"from": admin})
    chain.sleep(UNBONDING_DELAY + 1)
    with brownie.reverts(err("EthTransferFailed", rejecter, MIN_BOND)):
        rejecter.execute(registry, registry.withdrawBond.encode_input(), {"from": admin})


def test_register_after_withdrawBond_keeps_reputation_and_suspension(
    registry, register_partner, maker, governor, book
):
    register_partner(maker)
    registry.suspend(maker, cid("fraud"), {"from": governor})
    registry.startUnbonding({"from": maker})
    chain.sleep(UNBONDING_DELAY + 1)
    registry.withdrawBond({"from": maker})
    assert info(registry, maker)["flags"] == SUSPENDED
    registry.register(profile(), X25519_KEY, {"from": maker, "value": MIN_BOND})
    assert info(registry, maker)["flags"] == REGISTERED | SUSPENDED


# ---------------------------------------------------------------- vetting


def test_vet_succeeds(registry, register_partner, maker, certifier):
    register_partner(maker, vet=False)
    tx = registry.vet(maker, cid("report"), {"from": certifier})
    ev = tx.events["PartnerVetted"]
    assert ev["partner"] == maker and ev["certifier"] == certifier
    assert ev["evidenceCid"] == "0x" + cid("report").hex()
    assert info(registry, maker)["flags"] == REGISTERED | VETTED


def test_vet_reverts_with_AccessControlUnauthorizedAccount(registry, register_partner, maker, stranger):
    register_partner(maker, vet=False)
    with brownie.reverts(role_error(stranger, registry.CERTIFIER_ROLE())):
        registry.vet(maker, cid("report"), {"from": stranger})


def test_vet_reverts_with_NotRegistered(registry, stranger, certifier):
    with brownie.reverts(err("NotRegistered", stranger)):
        registry.vet(stranger, cid("report"), {"from": certifier})


# ---------------------------------------------------------- certifications


def test_certify_succeeds(registry, register_partner, maker, certifier):
    register_partner(maker)
    expiry = now() + 365 * DAY
    tx = registry.certify(maker, AS9100, expiry, cid("as9100"), {"from": certifier})
    ev = tx.events["CertificationGranted"]
    assert (ev["partner"], ev["certId"], ev["certifier"], ev["expiry"]) == (maker, AS9100, certifier, expiry)
    assert ev["evidenceCid"] == "0x" + cid("as9100").hex()
    assert registry.isCertified(maker, AS9100)
    assert registry.certificationExpiry(maker, AS9100) == expiry
    assert not registry.isCertified(maker, ISO_9001)


def test_certify_succeeds_and_expires(registry, register_partner, maker, certifier):
    register_partner(maker)
    registry.certify(maker, ISO_9001, now() + DAY, cid("iso"), {"from": certifier})
    chain.sleep(DAY + 1)
    chain.mine()
    assert not registry.isCertified(maker, ISO_9001)


def test_certify_reverts_with_AccessControlUnauthorizedAccount(registry, register_partner, maker, stranger):
    register_partner(maker)
    with brownie.reverts(role_error(stranger, registry.CERTIFIER_ROLE())):
        registry.certify(maker, ISO_9001, now() + DAY, cid("iso"), {"from": stranger})


def test_certify_reverts_with_NotRegistered(registry, stranger, certifier):
    with brownie.reverts(err("NotRegistered", stranger)):
        registry.certify(stranger, ISO_9001, now() + DAY, cid("iso"), {"from": certifier})


def test_certify_reverts_with_InvalidCertId(registry, register_partner, maker, certifier):
    register_partner(maker)
    with brownie.reverts(err("InvalidCertId")):
        registry.certify(maker, 0, now() + DAY, cid("iso"), {"from": certifier})


def test_certify_reverts_with_ExpiryNotInFuture(registry, register_partner, maker, certifier):
    register_partner(maker)
    past = now() - 1
    with brownie.reverts(err("ExpiryNotInFuture", past)):
        registry.certify(maker, ISO_9001, past, cid("iso"), {"from": certifier})


def test_revokeCertification_succeeds(registry, register_partner, maker, certifier):
    register_partner(maker, certs=[(ISO_9001, now() + DAY)])
    tx = registry.revokeCertification(maker, ISO_9001, cid("reason"), {"from": certifier})
    ev = tx.events["CertificationRevoked"]
    assert (ev["partner"], ev["certId"], ev["certifier"]) == (maker, ISO_9001, certifier)
    assert not registry.isCertified(maker, ISO_9001)
    assert registry.certificationExpiry(maker, ISO_9001) == 0


def test_revokeCertification_reverts_with_AccessControlUnauthorizedAccount(
    registry, register_partner, maker, stranger
):
    register_partner(maker, certs=[(ISO_9001, now() + DAY)])
    with brownie.reverts(role_error(stranger, registry.CERTIFIER_ROLE())):
        registry.revokeCertification(maker, ISO_9001, cid("reason"), {"from": stranger})


def test_revokeCertification_reverts_with_CertificationNotActive(registry, register_partner, maker, certifier):
    register_partner(maker)
    with brownie.reverts(err("CertificationNotActive", maker, ISO_9001)):
        registry.revokeCertification(maker, ISO_9001, cid("reason"), {"from": certifier})


# ------------------------------------------------------ suspend / reinstate


def test_suspend_succeeds(registry, register_partner, maker, governor):
    register_partner(maker)
    tx = registry.suspend(maker, cid("reason"), {"from": governor})
    ev = tx.events["PartnerSuspended"]
    assert ev["partner"] == maker and ev["governor"] == governor
    assert info(registry, maker)["flags"] & SUSPENDED
    assert registry.balance() == MIN_BOND  # suspension never touches the bond


def test_suspend_reverts_with_AccessControlUnauthorizedAccount(registry, register_partner, maker, certifier):
    register_partner(maker)
    with brownie.reverts(role_error(certifier, registry.GOVERNANCE_ROLE())):
        registry.suspend(maker, cid("reason"), {"from": certifier})


def test_suspend_reverts_with_NotRegistered(registry, stranger, governor):
    with brownie.reverts(err("NotRegistered", stranger)):
        registry.suspend(stranger, cid("reason"), {"from": governor})


def test_suspend_reverts_with_PartnerIsSuspended(registry, register_partner, maker, governor):
    register_partner(maker)
    registry.suspend(maker, cid("reason"), {"from": governor})
    with brownie.reverts(err("PartnerIsSuspended", maker)):
        registry.suspend(maker, cid("reason"), {"from": governor})


def test_reinstate_succeeds(registry, register_partner, maker, governor):
    register_partner(maker)
    registry.suspend(maker, cid("reason"), {"from": governor})
    tx = registry.reinstate(maker, {"from": governor})
    assert tx.events["PartnerReinstated"]["partner"] == maker
    assert info(registry, maker)["flags"] == REGISTERED | VETTED


def test_reinstate_reverts_with_AccessControlUnauthorizedAccount(registry, maker, stranger):
    with brownie.reverts(role_error(stranger, registry.GOVERNANCE_ROLE())):
        registry.reinstate(maker, {"from": stranger})


def test_reinstate_reverts_with_PartnerNotSuspended(registry, register_partner, maker, governor):
    register_partner(maker)
    with brownie.reverts(err("PartnerNotSuspended", maker)):
        registry.reinstate(maker, {"from": governor})


# -------------------------------------------------------------- reputation


@pytest.mark.parametrize("caller", ["admin", "governor", "maker"])
def test_recordOutcome_reverts_with_NotOrderBook(registry, request, caller):
    account = request.getfixturevalue(caller)
    with brownie.reverts(err("NotOrderBook", account)):
        registry.recordOutcome(account, 0, {"from": account})


# --------------------------------------------------------- checkEligible


def test_checkEligible_succeeds(registry, register_partner, maker):
    register_partner(maker, certs=[(ISO_9001, now() + DAY), (AS9100, now() + DAY)])
    registry.checkEligible(maker, PROCESS["CNC_MILLING"], MATERIAL["AL_6061"], ISO_9001 | AS9100 << 32)
    registry.checkEligible(maker, 0, 0, 0)


def test_checkEligible_reverts_with_NotRegistered(registry, stranger):
    with brownie.reverts(err("NotRegistered", stranger)):
        registry.checkEligible(stranger, 0, 0, 0)


def test_checkEligible_reverts_with_PartnerIsSuspended(registry, register_partner, maker, governor):
    register_partner(maker)
    registry.suspend(maker, cid("reason"), {"from": governor})
    with brownie.reverts(err("PartnerIsSuspended", maker)):
        registry.checkEligible(maker, 0, 0, 0)


def test_checkEligible_reverts_with_PartnerIsUnbonding(registry, register_partner, maker):
    register_partner(maker)
    registry.startUnbonding({"from": maker})
    with brownie.reverts(err("PartnerIsUnbonding", maker)):
        registry.checkEligible(maker, 0, 0, 0)


def test_checkEligible_reverts_with_NotVetted(registry, register_partner, maker):
    register_partner(maker, vet=False)
    with brownie.reverts(err("NotVetted", maker)):
        registry.checkEligible(maker, 0, 0, 0)


@pytest.mark.parametrize(
    "processes,materials",
    [(PROCESS["DMLS"], 0), (0, MATERIAL["TI_6AL4V"]), (CAPS | PROCESS["SLA"], MATS)],
)
def test_checkEligible_reverts_with_CapabilityMismatch(registry, register_partner, maker, processes, materials):
    register_partner(maker)
    with brownie.reverts(err("CapabilityMismatch", maker, processes, materials)):
        registry.checkEligible(maker, processes, materials, 0)


def test_checkEligible_reverts_with_CertificationMissing(registry, register_partner, maker, certifier):
    register_partner(maker, certs=[(ISO_9001, now() + 2 * DAY), (AS9100, now() + DAY)])
    # never granted (fourth slot)
    with brownie.reverts(err("CertificationMissing", maker, 3)):
        registry.checkEligible(maker, 0, 0, ISO_9001 | AS9100 << 32 | 3 << 96)
    # expired
    chain.sleep(DAY + 1)
    chain.mine()
    with brownie.reverts(err("CertificationMissing", maker, AS9100)):
        registry.checkEligible(maker, 0, 0, ISO_9001 | AS9100 << 32)
    # revoked
    registry.revokeCertification(maker, ISO_9001, cid("reason"), {"from": certifier})
    with brownie.reverts(err("CertificationMissing", maker, ISO_9001)):
        registry.checkEligible(maker, 0, 0, ISO_9001)
