"""Buyer and partner commands against real anvil + Kubo, through the `fabmesh` entry point."""

from __future__ import annotations

import json
import os

import pytest
from eth_account import Account
from eth_utils import keccak

from pynode.chain.client import Chain
from pynode.chain.orders import ZERO_ADDRESS
from pynode.core.units import ETH, Unit, format_amount, format_time
from pynode.crypto.envelope import OrderContext
from pynode.ipfs.client import IpfsClient
from pynode.ipfs.vault import DesignVault
from pynode.protocol.types import Status
from pynode.wallet.hpke_keys import HpkeKeyStore
from support import deploy_test_token

pytestmark = pytest.mark.integration

PASSWORD = "correct horse"


@pytest.fixture
def net(run, chain, settings, monkeypatch, tmp_path, dev_accounts, password_file):
    """CLI on protocol 1 (FABMESH_PROTOCOL) pointed at the session chain and Kubo; role accounts imported as
    keystores."""
    monkeypatch.setenv("FABMESH_PROTOCOL", "1")
    monkeypatch.setenv("FABMESH_RPC_URL", settings.rpc_url)
    monkeypatch.setenv("FABMESH_IPFS_API", settings.ipfs_api)
    monkeypatch.setenv("FABMESH_DEPLOYMENTS", str(settings.deployments))
    monkeypatch.setenv("FABMESH_PASSWORD_FILE", str(password_file))
    for role in ("buyer", "maker", "certifier", "stranger"):
        import_role(run, tmp_path, dev_accounts, role)
    return chain


def import_role(run, tmp_path, dev_accounts, role):
    """Imports anvil's `role` account as a foreign v3 keystore (as a geth user would)."""
    keyfile = tmp_path / f"{role}.json"
    keyfile.write_text(json.dumps(Account.encrypt(dev_accounts[role].key, PASSWORD, kdf="scrypt", iterations=1024)))
    assert run("wallet", "import", role, keyfile).exit_code == 0


def claim_and_award(net, dev_accounts, order_id):
    """maker claims, buyer awards (placeholder envelope): the order is ready for attestations."""
    net.send(dev_accounts["maker"], net.book.claim(net.book.load_order(order_id, net.from_block)))
    net.send(dev_accounts["buyer"], net.book.award(net.book.load_order(order_id, net.from_block), keccak(b"env")))


def onboard_maker(run, net):
    registered = run("--account", "maker", "--json", "-y", "partner", "register", "--processes", "CNC_MILLING,FDM",
                     "--materials", "AL_6061,PLA", "--region", "u33d", "--capacity", "50", "--name", "Mill & Co")
    assert registered.exit_code == 0, registered.stderr
    maker = registered.json()["address"]
    assert run("--account", "certifier", "-y", "partner", "vet", maker).exit_code == 0
    certified = run("--account", "certifier", "-y", "partner", "certify", maker, "--cert", "ISO_9001",
                    "--expires", "+365d")
    assert certified.exit_code == 0, certified.stderr
    return maker


def write_report(run, tmp_path, account, order_id, *options, name="qa.json"):
    """`fabmesh order report` as `account`: the quality report attest and ship accept."""
    path = tmp_path / name
    made = run("--account", account, "--json", "order", "report", str(order_id), "--out", path, *options)
    assert made.exit_code == 0, made.stderr
    return path


def post_order(run, tmp_path, *extra):
    design = tmp_path / "bracket.stl"
    design.write_bytes(b"solid bracket\n" + os.urandom(200_000) + b"endsolid bracket\n")
    result = run("--account", "buyer", "--json", "-y", "order", "post", "--design", design, "--process", "cnc_milling",
                 "--material", "AL_6061", "--qty", "10", "--price", "0.05", "--claim-by", "+2d", "--deliver-by", "+9d",
                 "--cert", "ISO_9001", "--region", "u33d", "--tolerance", "hole_d=6.0±0.05mm", *extra)
    return design, result


def test_register_show_and_list_partner(run, net):
    maker = onboard_maker(run, net)
    shown = run("--json", "partner", "show", maker).json()
    assert shown["vetted"] and shown["processes"] == ["FDM", "CNC_MILLING"] and shown["region"] == "u33d"
    assert [p["address"] for p in run("--json", "partner", "list").json()] == [maker]
    human = run("partner", "show", maker).stdout.splitlines()  # the bond in ETH, not wei
    assert f"bond: {format_amount(shown['bond_wei'], ETH)}" in human and "unbonding_ready_at: -" in human
    assert shown["bond_wei"] > 0 and f"bond: {shown['bond_wei']}" not in human


def test_post_award_and_the_partner_decrypts(run, net, tmp_path, fabmesh_home, dev_accounts, settings):
    maker = onboard_maker(run, net)
    design, posted = post_order(run, tmp_path)
    assert posted.exit_code == 0, posted.stderr
    data = posted.json()
    order_id = data["order_id"]

    shown = run("--json", "order", "show", str(order_id)).json()
    assert shown["status"] == "OPEN" and shown["design_cid"] == data["design_cid"]
    assert shown["certifications"] == ["ISO_9001"] and shown["price"] == 5 * 10**16

    tracker = net.book.load_order(order_id, net.from_block)
    net.send(dev_accounts["maker"], net.book.claim(tracker))
    wrong = run("--account", "buyer", "-y", "order", "award", str(order_id), dev_accounts["stranger"].address)
    assert wrong.exit_code == 1 and f"was claimed by {maker}" in wrong.stderr

    awarded = run("--account", "buyer", "--json", "-y", "order", "award", str(order_id), maker)
    assert awarded.exit_code == 0, awarded.stderr
    assert net.book.load_order(order_id, net.from_block).status == Status.AWARDED

    # The maker's own HPKE key (created at import) opens the envelope; the design matches the commitment.
    keypair = HpkeKeyStore(fabmesh_home / "hpke", 1024).unlock("maker", PASSWORD)
    with IpfsClient(settings.ipfs_api) as ipfs:
        vault = DesignVault(ipfs)
        design_sha256 = bytes.fromhex(data["design_sha256"][2:])
        context = OrderContext(net.chain_id, net.book.address, order_id, maker, design_sha256)
        key = vault.content_key_from_envelope(awarded.json()["key_envelope_cid"], keypair, context)
        out = tmp_path / "received.stl"
        vault.open(data["design_cid"], key, out, context.design_sha256)
    assert out.read_bytes() == design.read_bytes()


def test_order_list_filters(run, net, tmp_path):
    _, first = post_order(run, tmp_path)
    listed = run("--json", "order", "list", "--status", "open").json()
    assert [o["order_id"] for o in listed] == [first.json()["order_id"]]
    assert run("--json", "order", "list", "--status", "paid").json() == []


def test_cancel_credits_the_escrow_back(run, net, tmp_path, dev_accounts):
    _, posted = post_order(run, tmp_path)
    order_id = posted.json()["order_id"]
    assert run("--account", "buyer", "-y", "order", "cancel", str(order_id)).exit_code == 0
    assert net.book.credits(dev_accounts["buyer"].address) == 5 * 10**16
    again = run("--account", "buyer", "-y", "order", "cancel", str(order_id))
    assert again.exit_code == 1 and f"OrderNotOpen(orderId={order_id})" in again.stderr


@pytest.mark.parametrize("args, message", [
    (("--price", "-1"), "not an amount"),
    (("--price", "0"), "more than zero"),
    (("--claim-by", "yesterday"), "not a time"),
    (("--deliver-by", "+1d"), "must be after --claim-by"),
    (("--process", "weaving"), "unknown process"),
    (("--tolerance", "hole=6mm"), "NAME=NOMINAL±TOL"),
    (("--to", "0x1234"), "not an address"),
    (("--cert", "ISO_0000"), "unknown certification"),
])
def test_bad_post_input_is_refused_and_nothing_is_escrowed(run, net, tmp_path, args, message):
    design = tmp_path / "part.gcode"
    design.write_text("G1 X10 Y10\n")
    base = {"--process": "FDM", "--material": "PLA", "--qty": "1", "--price": "0.01", "--claim-by": "+2d",
            "--deliver-by": "+5d"}
    extra = dict(zip(args[::2], args[1::2]))
    options = [item for pair in {**base, **extra}.items() for item in pair]
    before = net.book.order_count()
    result = run("--account", "buyer", "-y", "order", "post", "--design", design, *options)
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert net.book.order_count() == before


def test_wrong_password_changes_nothing(run, net, tmp_path):
    wrong = tmp_path / "wrong"
    wrong.write_text("nope\n")
    before = net.book.order_count()
    design = tmp_path / "bracket.stl"
    design.write_bytes(b"solid x\nendsolid x\n")
    result = run("--account", "buyer", "--password-file", wrong, "-y", "order", "post", "--design", design,
                 "--process", "FDM", "--material", "PLA", "--qty", "1", "--price", "0.01", "--claim-by", "+2d",
                 "--deliver-by", "+5d")
    assert result.exit_code == 1 and "wrong password" in result.stderr
    assert net.book.order_count() == before


def test_check_reports_every_component(run, net):
    result = run("--account", "buyer", "--json", "check")
    assert result.exit_code == 0, result.stdout
    assert [c["check"] for c in result.json()["checks"]] == [
        "rpc + deployment", "PartnerRegistry code", "OrderBook code", "ipfs", "account balance"]


def test_inspector_signs_offline_and_anyone_relays(run, net, tmp_path, dev_accounts, settings):
    import_role(run, tmp_path, dev_accounts, "inspector")
    maker = onboard_maker(run, net)
    _, posted = post_order(run, tmp_path)
    order_id = posted.json()["order_id"]
    claim_and_award(net, dev_accounts, order_id)
    report = write_report(run, tmp_path, "inspector", order_id, "--measure", "hole_d=6.01", name="inspection.json")
    signed_file = tmp_path / "attestation.json"

    signed = run("--account", "inspector", "attest", str(order_id), "--report", report, "--pass",
                 "--sign-only", signed_file)
    assert signed.exit_code == 0, signed.stderr
    relayed = run("--account", "stranger", "-y", "relay-attestation", signed_file)
    assert relayed.exit_code == 0, relayed.stderr
    records = run("--json", "order", "show", str(order_id)).json()["records"]
    assert records[-1]["kind"] == "QUALITY_ATTESTED" and records[-1]["actor"] == dev_accounts["inspector"].address
    assert maker != dev_accounts["inspector"].address

    again = run("--account", "stranger", "-y", "relay-attestation", signed_file)
    assert again.exit_code == 1 and "InvalidAccountNonce" in again.stderr


def test_partner_attests_directly_and_strangers_cannot(run, net, tmp_path, dev_accounts):
    onboard_maker(run, net)
    _, posted = post_order(run, tmp_path)
    order_id = posted.json()["order_id"]
    claim_and_award(net, dev_accounts, order_id)
    report = write_report(run, tmp_path, "maker", order_id, "--fail")
    stranger = run("--account", "stranger", "-y", "attest", str(order_id), "--report", report, "--fail")
    assert stranger.exit_code == 1 and "NotAttester" in stranger.stderr
    ok = run("--account", "maker", "-y", "--json", "attest", str(order_id), "--report", report, "--fail")
    assert ok.exit_code == 0 and ok.json()["passed"] is False


def test_whole_job_from_the_command_line(run, net, tmp_path, dev_accounts):
    maker = onboard_maker(run, net)
    design, posted = post_order(run, tmp_path, "--claim-bond", "0.01")
    order_id = str(posted.json()["order_id"])
    as_maker = ("--account", "maker", "-y")

    assert run(*as_maker, "order", "claim", order_id).exit_code == 0
    assert run("--account", "buyer", "-y", "order", "award", order_id, maker).exit_code == 0

    out = tmp_path / "job" / "received.stl"
    fetched = run(*as_maker, "order", "fetch-design", order_id, "--out", out)
    assert fetched.exit_code == 0, fetched.stderr
    assert out.read_bytes() == design.read_bytes()
    assert sorted(p.name for p in out.parent.iterdir()) == ["received.stl"]  # no staging left behind
    again = run(*as_maker, "order", "fetch-design", order_id, "--out", out)
    assert again.exit_code == 1 and "already exists" in again.stderr

    photo = tmp_path / "bore.jpg"
    photo.write_bytes(os.urandom(1000))
    assert run(*as_maker, "order", "start", order_id).exit_code == 0
    report = write_report(run, tmp_path, "maker", order_id, "--measure", "hole_d=6.01", "--measure", "mass_g=41.5",
                          "--evidence", photo)
    assert run(*as_maker, "attest", order_id, "--report", report, "--pass").exit_code == 0
    assert run(*as_maker, "order", "ship", order_id, "--report", report).exit_code == 0
    assert run("--account", "buyer", "-y", "order", "confirm", order_id).exit_code == 0

    before = net.w3.eth.get_balance(maker)
    paid = run(*as_maker, "--json", "withdraw")
    assert paid.exit_code == 0, paid.stderr
    assert [p["order_id"] for p in paid.json()["payments"]] == [int(order_id)]
    receipt = net.w3.eth.get_transaction_receipt(paid.json()["payments"][0]["tx"])
    gas_cost = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert net.w3.eth.get_balance(maker) == before + 5 * 10**16 + 10**16 - gas_cost  # price + claim bond
    assert run("--json", "order", "show", order_id).json()["status"] == "PAID"
    assert run(*as_maker, "--json", "withdraw").json() == {"payments": [], "credits": []}


def test_design_stays_secret_from_everyone_but_the_awardee(run, net, tmp_path, dev_accounts):
    maker = onboard_maker(run, net)
    _, posted = post_order(run, tmp_path)
    order_id = str(posted.json()["order_id"])
    out = tmp_path / "stolen.stl"
    not_yet = run("--account", "maker", "-y", "order", "fetch-design", order_id, "--out", out)
    assert not_yet.exit_code == 1 and "not awarded" in not_yet.stderr
    run("--account", "maker", "-y", "order", "claim", order_id)
    run("--account", "buyer", "-y", "order", "award", order_id, maker)
    stranger = run("--account", "stranger", "-y", "order", "fetch-design", order_id, "--out", out)
    assert stranger.exit_code == 1 and "not awarded" in stranger.stderr
    assert not out.exists()


def test_same_design_posted_twice_gets_two_keys_and_both_decrypt(run, net, tmp_path):
    maker = onboard_maker(run, net)
    design = tmp_path / "same.gcode"
    design.write_text("G1 X1 Y1\n" * 100)
    ids = []
    for _ in range(2):
        posted = run("--account", "buyer", "--json", "-y", "order", "post", "--design", design, "--process", "FDM",
                     "--material", "PLA", "--qty", "1", "--price", "0.01", "--claim-by", "+2d", "--deliver-by", "+5d")
        ids.append(str(posted.json()["order_id"]))
    for order_id in ids:
        assert run("--account", "maker", "-y", "order", "claim", order_id).exit_code == 0
        assert run("--account", "buyer", "-y", "order", "award", order_id, maker).exit_code == 0
        out = tmp_path / f"got-{order_id}.gcode"
        fetched = run("--account", "maker", "-y", "order", "fetch-design", order_id, "--out", out)
        assert fetched.exit_code == 0, fetched.stderr
        assert out.read_bytes() == design.read_bytes()


def test_partner_lifecycle_commands(run, net, tmp_path, dev_accounts, fabmesh_home):
    maker = onboard_maker(run, net)
    as_maker = ("--account", "maker", "-y")

    # Profile change clears vetting; a rotated HPKE key is what the registry serves from then on.
    assert run(*as_maker, "partner", "update", "--processes", "FDM").exit_code == 0
    assert run("--json", "partner", "show", maker).json()["vetted"] is False
    assert run("wallet", "hpke-new", "maker").exit_code == 0
    new_key = run("--json", "wallet", "address", "maker").json()["hpke_public_key"]
    assert run(*as_maker, "partner", "update", "--rotate-key").exit_code == 0
    assert "0x" + net.registry.encryption_key(maker, net.from_block).hex() == new_key
    nothing = run(*as_maker, "partner", "update")
    assert nothing.exit_code == 2 and "nothing to update" in nothing.stderr

    # Governance: only the governor may suspend (the deployer, admin, here).
    import_role(run, tmp_path, dev_accounts, "admin")
    refused = run("--account", "stranger", "-y", "partner", "suspend", maker)
    assert refused.exit_code == 1 and "AccessControlUnauthorizedAccount" in refused.stderr
    assert run("--account", "admin", "-y", "partner", "suspend", maker).exit_code == 0
    assert run("--json", "partner", "show", maker).json()["suspended"] is True
    assert run("--account", "admin", "-y", "partner", "reinstate", maker).exit_code == 0

    # Unbonding: the bond comes back only after the delay.
    assert run(*as_maker, "partner", "unbond").exit_code == 0
    early = run(*as_maker, "partner", "withdraw-bond")
    assert early.exit_code == 1 and "UnbondingNotElapsed" in early.stderr
    anvil_rpc(net, "evm_increaseTime", net.registry.unbonding_delay() + 1)
    anvil_rpc(net, "evm_mine")
    before = net.w3.eth.get_balance(maker)
    assert run(*as_maker, "partner", "withdraw-bond").exit_code == 0
    assert net.w3.eth.get_balance(maker) > before


def anvil_rpc(chain, method, *params):
    return chain.w3.provider.make_request(method, list(params))


def test_finalize_after_a_silent_inspection_window_and_refund_after_deadlines(run, net, tmp_path):
    maker = onboard_maker(run, net)
    _, posted = post_order(run, tmp_path, "--inspection", "1h")
    order_id = str(posted.json()["order_id"])
    as_maker = ("--account", "maker", "-y")
    run(*as_maker, "order", "claim", order_id)
    run("--account", "buyer", "-y", "order", "award", order_id, maker)
    report = write_report(run, tmp_path, "maker", order_id, "--measure", "hole_d=6.0")
    assert run(*as_maker, "order", "ship", order_id, "--report", report).exit_code == 0
    early = run("--account", "stranger", "-y", "order", "finalize", order_id)
    assert early.exit_code == 1 and "InspectionWindowOpen" in early.stderr
    anvil_rpc(net, "evm_increaseTime", 2 * 3600)
    anvil_rpc(net, "evm_mine")
    assert run("--account", "stranger", "-y", "order", "finalize", order_id).exit_code == 0
    assert run("--json", "order", "show", order_id).json()["status"] == "COMPLETED"

    _, unclaimed = post_order(run, tmp_path)
    late_id = str(unclaimed.json()["order_id"])
    too_soon = run("--account", "buyer", "-y", "order", "refund", late_id)
    assert too_soon.exit_code == 1 and "ClaimDeadlineNotPassed" in too_soon.stderr
    anvil_rpc(net, "evm_increaseTime", 3 * 86400)
    anvil_rpc(net, "evm_mine")
    assert run("--account", "stranger", "-y", "order", "refund", late_id).exit_code == 0
    assert run("--json", "order", "show", late_id).json()["status"] == "REFUNDED"


def test_revoked_certification_blocks_claims_that_need_it(run, net, tmp_path):
    maker = onboard_maker(run, net)
    assert run("--account", "certifier", "-y", "partner", "revoke-cert", maker, "--cert", "ISO_9001").exit_code == 0
    _, posted = post_order(run, tmp_path)  # requires ISO_9001
    refused = run("--account", "maker", "-y", "order", "claim", str(posted.json()["order_id"]))
    assert refused.exit_code == 1 and "CertificationMissing" in refused.stderr


def test_attest_and_ship_refuse_reports_the_auditor_would_reject(run, net, tmp_path, dev_accounts):
    """Checked before anything is pinned or sent: not a report, another order's report, a verdict that
    contradicts --pass, a failing report shipped. The order stays where it was."""
    maker = onboard_maker(run, net)
    _, first = post_order(run, tmp_path)
    _, second = post_order(run, tmp_path)
    order_id, other_id = str(first.json()["order_id"]), str(second.json()["order_id"])
    as_maker = ("--account", "maker", "-y")
    for oid in (order_id, other_id):
        assert run(*as_maker, "order", "claim", oid).exit_code == 0
        assert run("--account", "buyer", "-y", "order", "award", oid, maker).exit_code == 0
    junk = tmp_path / "notes.json"
    junk.write_text('{"hole_d": 6.01}')
    failing = write_report(run, tmp_path, "maker", order_id, "--measure", "hole_d=6.2", name="failing.json")
    others = write_report(run, tmp_path, "maker", other_id, "--measure", "hole_d=6.0", name="other.json")
    unmeasured = run("--account", "maker", "--json", "order", "report", order_id, "--out", tmp_path / "u.json")
    assert unmeasured.json()["passed"] is False and unmeasured.json()["failed_checks"] == ["hole_d"]

    cases = [(("attest", order_id, "--report", junk, "--pass"), "write one with `fabmesh order report"),
             (("attest", order_id, "--report", others, "--pass"), f"says order_id {other_id}, expected {order_id}"),
             (("attest", order_id, "--report", failing, "--pass"), "says passed False, expected True"),
             (("order", "ship", order_id, "--report", failing), "says passed False, expected True"),
             (("order", "ship", order_id, "--report", junk), "write one with `fabmesh order report")]
    for args, message in cases:
        refused = run(*as_maker, *args)
        assert refused.exit_code == 1 and message in refused.stderr, (args, refused.stderr)
        assert len(refused.stderr.strip().splitlines()) == 1
    assert run("--json", "order", "show", order_id).json()["status"] == "AWARDED"
    bad_measure = run("--account", "maker", "order", "report", order_id, "--measure", "hole_d=wide", "--out",
                      tmp_path / "x.json")
    assert bad_measure.exit_code == 2 and "expected NAME=NUMBER" in bad_measure.stderr


def test_raw_leaves_design_and_reports_from_the_command_line(run, net, tmp_path, monkeypatch):
    """FABMESH_IPFS_RAW_LEAVES: designs and reports added as Kubo's `ipfs add --cid-version 1` adds them."""
    monkeypatch.setenv("FABMESH_IPFS_RAW_LEAVES", "true")
    maker = onboard_maker(run, net)
    design, posted = post_order(run, tmp_path)  # ~200 kB: one block, so one raw block
    assert posted.exit_code == 0, posted.stderr
    order_id, design_cid = str(posted.json()["order_id"]), posted.json()["design_cid"]
    assert design_cid.startswith("bafkrei")
    assert run("--json", "order", "show", order_id).json()["design_cid"] == design_cid  # read back via the spec

    as_maker = ("--account", "maker", "-y")
    assert run(*as_maker, "order", "claim", order_id).exit_code == 0
    assert run("--account", "buyer", "-y", "order", "award", order_id, maker).exit_code == 0
    out = tmp_path / "received.stl"
    assert run(*as_maker, "order", "fetch-design", order_id, "--out", out).exit_code == 0
    assert out.read_bytes() == design.read_bytes()
    report = write_report(run, tmp_path, "maker", order_id, "--measure", "hole_d=6.01")
    attested = run(*as_maker, "--json", "attest", order_id, "--report", report, "--pass")
    shipped = run(*as_maker, "--json", "order", "ship", order_id, "--report", report)
    assert attested.json()["report_cid"].startswith("bafkrei") and shipped.json()["report_cid"].startswith("bafkrei")
    assert run("--account", "buyer", "-y", "order", "confirm", order_id).exit_code == 0

    audited = run("--json", "audit", "order", order_id)
    assert audited.exit_code == 0, audited.stdout
    cids = {d["cid"] for o in audited.json()["orders"] for d in o["documents"]}
    assert {design_cid, attested.json()["report_cid"]} <= cids


# ------------------------------------------------------------------ human units

def test_amounts_read_in_their_tokens_units_and_json_keeps_the_integers(run, net, tmp_path, dev_accounts):
    usdc = deploy_test_token(net, dev_accounts["admin"], dev_accounts["buyer"], "SixDecimalERC20", 10**9).address
    _, eth_posted = post_order(run, tmp_path)  # 0.05 ETH
    _, usdc_posted = post_order(run, tmp_path, "--token", usdc, "--price", "12.5", "--inspection", "36h")
    assert eth_posted.exit_code == 0 and usdc_posted.exit_code == 0, usdc_posted.stderr
    eth_id, usdc_id = eth_posted.json()["order_id"], usdc_posted.json()["order_id"]

    listed = run("order", "list", "--status", "open")
    assert listed.exit_code == 0, listed.stderr
    assert "0.05 ETH" in listed.stdout and "12.5 USDC" in listed.stdout
    exact = {o["order_id"]: o for o in run("--json", "order", "list", "--status", "open").json()}
    assert exact[eth_id]["price"] == 5 * 10**16 and exact[usdc_id]["price"] == 12_500_000
    assert f"{format_time(exact[usdc_id]['claim_deadline'])}" in listed.stdout

    shown = run("order", "show", usdc_id).stdout.splitlines()
    assert "price: 12.5 USDC" in shown and f"token: USDC {usdc}" in shown and "claim_bond: 0 ETH" in shown
    assert "inspection_window: 1 day 12 hours" in shown
    assert f"claim_deadline: {format_time(exact[usdc_id]['claim_deadline'])}" in shown
    assert "price: 0.05 ETH" in run("order", "show", eth_id).stdout.splitlines()
    assert run("--json", "order", "show", usdc_id).json()["inspection_window"] == 36 * 3600

    for order_id, price, window in ((usdc_id, "12.5 USDC", "1 day 12 hours"), (eth_id, "0.05 ETH", "3 days")):
        page = tmp_path / f"audit-{order_id}.html"
        audited = run("audit", "order", order_id, "--html", page)
        assert audited.exit_code == 0, audited.stdout
        html = page.read_text()
        assert f"<th>price</th><td>{price}</td>" in html and "<th>claim bond</th><td>0 ETH</td>" in html
        assert f"<th>inspection window</th><td>{window}</td>" in html
        assert f"<th>claim deadline</th><td>{format_time(exact[order_id]['claim_deadline'])}</td>" in html


def test_a_tokens_symbol_and_decimals_are_read_once_per_connection(net, dev_accounts, anvil, settings):
    usdc = deploy_test_token(net, dev_accounts["admin"], dev_accounts["buyer"], "SixDecimalERC20", 1).address
    assert net.token_unit(usdc) == Unit("USDC", 6) and net.token_unit(ZERO_ADDRESS) == ETH
    anvil.rpc("anvil_setCode", usdc, "0x")  # the token is gone: only what was read once still answers
    assert net.token_unit(usdc) == Unit("USDC", 6)
    fresh = Chain.connect(settings).token_unit(usdc)  # a new connection reads again: no code, no decimals
    assert fresh == Unit(f"{usdc[:10]}… (smallest units)", 0)


def test_post_publishes_the_designs_geometry_in_the_spec(run, net, tmp_path, settings):
    """order post measures the STL before sealing it: the spec Kubo serves back carries the box's exact metrics;
    a design of no known format is posted without geometry, and stderr says so in one line."""
    import trimesh

    from pynode.documents.spec import MAX_SPEC_BYTES, read_spec_document

    design = tmp_path / "box.stl"
    design.write_bytes(trimesh.creation.box(extents=(10, 20, 30)).export(file_type="stl"))
    posted = run("--account", "buyer", "--json", "-y", "order", "post", "--design", design, "--process", "FDM",
                 "--material", "PLA", "--qty", "1", "--price", "0.01", "--claim-by", "+2d", "--deliver-by", "+5d")
    assert posted.exit_code == 0, posted.stderr
    _, unknown = post_order(run, tmp_path)
    assert unknown.exit_code == 0, unknown.stderr
    with IpfsClient(settings.ipfs_api) as ipfs:
        spec, other = (ipfs.cat_bytes(r.json()["spec_cid"], max_size=MAX_SPEC_BYTES) for r in (posted, unknown))
    read_spec_document(spec)
    assert json.loads(spec)["geometry"] == posted.json()["geometry"] == {
        "format": "stl", "extents_mm": {"min": [-5.0, -10.0, -15.0], "max": [5.0, 10.0, 15.0]}, "volume_mm3": 6000.0,
        "area_mm2": 2200.0, "triangles": 12, "watertight": True}
    assert "geometry" not in json.loads(other) and unknown.json()["geometry"] is None
    assert "note: the spec publishes no geometry: not an STL, 3MF, G-code or DXF file\n" in unknown.stderr
    assert "note:" not in posted.stderr
