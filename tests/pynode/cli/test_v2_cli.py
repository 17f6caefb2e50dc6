"""The `fabmesh` commands on protocol v2 against a real anvil (the dev v2 deployment) and Kubo, through the entry
point: a partner registered and vetted, an escrow-first order posted, a quote signed to a file and awarded with
it, shipped with a real quality report, confirmed; quotes that are tampered with, for another order or expired
refused in one line with the escrow untouched; a governance change refused before its delay and executed after."""

from __future__ import annotations

import json
import os

import pytest
from eth_account import Account

from pynode.chain.v2.client import ChainV2
from pynode.chain.v2.orders import ZERO_ADDRESS
from pynode.core.settings import Settings
from pynode.core.units import format_time
from pynode.daemon.adapters.base import ProductionResult
from pynode.dev.accounts import DEV_GOVERNANCE_DELAY, v2_accounts
from pynode.dev.designs import bracket_stl
from pynode.documents.quality_report import build_report, canonical_json
from pynode.documents.quote import sign_quote
from pynode.ipfs.client import IpfsClient
from pynode.orders.spec_document import fetch_spec_document
from pynode.protocol.v2 import codec
from pynode.protocol.v2.types import OrderStatus, Quote

pytestmark = [pytest.mark.integration, pytest.mark.own_chain]

PASSWORD = "correct horse"
DAY = 86400


@pytest.fixture
def v2(run, chain, anvil, kubo, v2_deployments_dir, monkeypatch, tmp_path, dev_accounts, password_file):
    """The CLI on protocol 2 (FABMESH_PROTOCOL) against the module's chain; role accounts imported as keystores.
    (`chain` reverts the chain after each test.)"""
    monkeypatch.setenv("FABMESH_RPC_URL", anvil.rpc_url)
    monkeypatch.setenv("FABMESH_IPFS_API", kubo.api_url)
    monkeypatch.setenv("FABMESH_DEPLOYMENTS", str(v2_deployments_dir))
    monkeypatch.setenv("FABMESH_PASSWORD_FILE", str(password_file))
    monkeypatch.setenv("FABMESH_PROTOCOL", "2")
    accounts = dev_accounts | v2_accounts()
    for role in ("buyer", "maker", "certifier", "stranger", "admin", "arbitrator", "panelist", "guardian",
                 "inspector"):
        keyfile = tmp_path / f"{role}.json"
        keyfile.write_text(json.dumps(Account.encrypt(accounts[role].key, PASSWORD, kdf="scrypt", iterations=1024)))
        assert run("wallet", "import", role, keyfile).exit_code == 0
    return ChainV2.connect(Settings(rpc_url=anvil.rpc_url, deployments=v2_deployments_dir, confirmations=0))


def ok(result):
    assert result.exit_code == 0, result.stderr
    return result


def onboard(run, v2):
    maker = ok(run("--account", "maker", "--json", "-y", "partner", "register", "--processes", "CNC_MILLING,FDM",
                   "--materials", "AL_6061,PLA", "--region", "u33d", "--bond", "0.1")).json()["address"]
    vetted = ok(run("--account", "certifier", "--json", "-y", "partner", "vet", maker)).json()
    assert vetted["profile_hash"] == "0x" + v2.registry.profile_hash(maker).hex()
    return maker


def post(run, tmp_path, *extra, name="bracket.stl"):
    design = bracket_stl(tmp_path / name)  # sealed with a fresh key: every post is another order
    posted = ok(run("--account", "buyer", "--json", "-y", "order", "post", "--design", design, "--process",
                    "cnc_milling", "--material", "AL_6061", "--qty", "4", "--price", "0.05", "--award-by", "+2d",
                    "--deliver-by", "+9d", "--min-bond", "0.01", "--tolerance", "hole_d=6.0±0.05mm", *extra))
    return posted.json()["order_id"]


def sign(run, tmp_path, order_id, *extra, name="quote.json"):
    path = tmp_path / name
    ok(run("--account", "maker", "--json", "quote", str(order_id), "--sign-only", path, "--price", "0.04",
           "--lead-time", "5d", *extra))
    return path


def passing_report(v2, kubo, tmp_path, order_id, maker):
    """A real passing quality report of the order, as `order ship` takes it."""
    with IpfsClient(kubo.api_url) as ipfs:
        tracker = v2.book.load_order(order_id, v2.from_block)
        spec = fetch_spec_document(ipfs, tracker).model_dump(mode="json")  # type: ignore[arg-type]
    report = build_report(ProductionResult(passed=True, measurements={"hole_d": 6.01}, evidence=(), notes=""), spec,
                          order_id=order_id, chain_id=v2.chain_id, contract=v2.book.address, partner=maker,
                          started_at=1, finished_at=2)
    path = tmp_path / "qa.json"
    path.write_bytes(canonical_json(report))
    return path


def test_quote_award_ship_confirm(run, v2, kubo, tmp_path, dev_accounts):
    maker = onboard(run, v2)
    order_id = post(run, tmp_path)
    shown = ok(run("--json", "order", "show", str(order_id))).json()
    assert (shown["status"], shown["escrow"], shown["min_bond"]) == ("OPEN", 5 * 10**16, 10**16)
    assert shown["arbitrator"] == v2.panel.address and shown["record_head"] == "0x" + codec.genesis(
        v2.chain_id, v2.book.address, order_id).hex()

    quote_file = sign(run, tmp_path, order_id)
    document = json.loads(quote_file.read_text())
    assert document["quote"]["price"] == str(4 * 10**16) and document["quote"]["bond"] == str(10**16)
    assert document["quote"]["lead_time"] == 5 * DAY and document["order_book"] == v2.book.address
    awarded = ok(run("--account", "buyer", "--json", "-y", "order", "award", str(order_id), "--quote", quote_file))
    assert awarded.json()["partner"] == maker and awarded.stderr == ""  # --json: no progress lines either
    tracker = v2.book.load_order(order_id, v2.from_block)
    assert (tracker.status, tracker.partner, tracker.price) == (OrderStatus.AWARDED, maker, 4 * 10**16)
    assert v2.book.credits(dev_accounts["buyer"].address, ZERO_ADDRESS) == 10**16  # the price difference

    human = ok(run("order", "show", str(order_id))).stdout
    assert "price: 0.04 ETH" in human and "escrow: 0.05 ETH" in human and "min_bond: 0.01 ETH" in human
    assert f"due_by: {format_time(tracker.due_by)}" in human and f"due_by: {tracker.due_by}" not in human
    assert "reject_window: 2 days" in human and f"transition_head: 0x{tracker.head.hex()}" in human
    received = tmp_path / "received.stl"
    fetched = ok(run("--account", "maker", "--json", "order", "fetch-design", str(order_id), "--out", received))
    assert received.read_bytes() == (tmp_path / "bracket.stl").read_bytes() and fetched.json()["mismatch"] is None
    report = tmp_path / "made.json"
    made = ok(run("--account", "maker", "--json", "order", "report", str(order_id), "--measure", "hole_d=6.01",
                  "--out", report)).json()
    assert made["passed"] and made["failed_checks"] == []
    ok(run("--account", "maker", "-y", "order", "ship", str(order_id), "--report", report))
    before = v2.w3.eth.get_balance(maker)
    ok(run("--account", "buyer", "-y", "order", "confirm", str(order_id)))
    assert v2.w3.eth.get_balance(maker) == before + 4 * 10**16  # fee 0 on the dev deployment
    listed = ok(run("--json", "order", "list", "--status", "completed")).json()
    assert [(o["order_id"], o["partner"], o["payee"]) for o in listed] == [(order_id, maker, maker)]
    table = ok(run("order", "list")).stdout
    assert str(order_id) in table and "COMPLETED" in table and "0.04 ETH" in table
    assert maker in ok(run("partner", "list")).stdout
    withdrawn = ok(run("--account", "buyer", "--json", "-y", "withdraw")).json()
    assert [c["amount"] for c in withdrawn["credits"]] == [10**16]


def test_bad_quotes_are_refused_in_one_line_and_the_escrow_stays(run, v2, tmp_path, dev_accounts):
    maker = onboard(run, v2)
    first, second = post(run, tmp_path, name="a.stl"), post(run, tmp_path, name="b.stl")
    committed = v2.book.order_hash(first)
    good = sign(run, tmp_path, first)

    tampered = tmp_path / "tampered.json"
    document = json.loads(good.read_text())
    document["quote"]["price"] = str(10**15)
    tampered.write_text(json.dumps(document))
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    now = v2.now()
    expired = tmp_path / "expired.json"
    terms = v2.book.load_order(first, v2.from_block).terms
    expired.write_bytes(sign_quote(dev_accounts["maker"], v2.domain, Quote(
        codec.terms_hash(terms), maker, maker, 10**16, 10**16, DAY, now - 10, 7)).to_json())
    for path, order_id, message in ((tampered, first, "is signed by"), (good, second, "names other terms"),
                                    (expired, first, "expired"), (garbage, first, "garbage.json")):
        result = run("--account", "buyer", "-y", "order", "award", str(order_id), "--quote", path)
        assert result.exit_code == 1 and message in result.stderr, (path.name, result.stderr)
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert v2.book.order_hash(first) == committed
    assert v2.book.load_order(second, v2.from_block).status == OrderStatus.OPEN
    assert v2.book.credits(dev_accounts["buyer"].address, ZERO_ADDRESS) == 0

    usage = run("--account", "maker", "quote", str(first), "--sign-only", tmp_path / "x.json", "--price", "0.01",
                "--lead-time", "soon")
    assert usage.exit_code == 2 and "not a duration" in usage.stderr
    too_dear = run("--account", "maker", "quote", str(first), "--sign-only", tmp_path / "y.json", "--price", "1",
                   "--lead-time", "1d")
    assert too_dear.exit_code == 1 and "price" in too_dear.stderr and not (tmp_path / "y.json").exists()
    late = run("--account", "maker", "quote", str(first), "--sign-only", "-", "--price", "0.01", "--lead-time", "30d")
    assert late.exit_code == 1 and late.stdout == "" and "delivery deadline" in late.stderr
    to_stdout = ok(run("--account", "maker", "--json", "quote", str(first), "--sign-only", "-", "--price", "0.01",
                       "--lead-time", "1d"))
    assert json.loads(to_stdout.stdout)["type"] == "fabmesh/signed-quote"
    assert run("--json", "order", "show", "12x").exit_code == 2


def test_governance_waits_out_its_delay(run, v2, anvil, dev_accounts):
    recipient = dev_accounts["auditor"].address
    call = ("book", "setFee", "100", recipient)
    scheduled = ok(run("--account", "admin", "--json", "-y", "governance", "schedule", *call)).json()
    assert scheduled["delay"] == DEV_GOVERNANCE_DELAY and scheduled["ready_at"] >= v2.now() + DEV_GOVERNANCE_DELAY - 1
    early = run("--account", "admin", "-y", "governance", "execute", *call)
    assert early.exit_code == 1 and "becomes executable at" in early.stderr and "nothing sent" in early.stderr
    assert v2.book.fee_bps() == 0
    status = ok(run("--json", "governance", "status", "--caller", dev_accounts["admin"].address)).json()
    pending = [o for o in status["operations"] if o["operation_id"] == scheduled["operation_id"]]
    assert [(o["state"], o["call"]) for o in pending] == [("pending", "OrderBookV2.setFee")]
    assert {"target": "book", "function": "setFee", "role": "GOVERNANCE", "caller_delay": DEV_GOVERNANCE_DELAY} in \
        status["functions"]
    human = ok(run("governance", "status")).stdout
    assert "pending (in " in human and "OrderBookV2.setFee" in human

    stranger = run("--account", "stranger", "-y", "governance", "schedule", *call)
    assert stranger.exit_code == 1 and "needs role GOVERNANCE" in stranger.stderr
    bad = run("--account", "admin", "-y", "governance", "schedule", "book", "setFee", "100")
    assert bad.exit_code == 2 and "takes 2 arguments" in bad.stderr

    anvil.rpc("evm_increaseTime", DEV_GOVERNANCE_DELAY + 1)
    anvil.rpc("evm_mine")
    ok(run("--account", "admin", "-y", "governance", "execute", *call))
    assert (v2.book.fee_bps(), v2.book.fee_recipient()) == (100, recipient)
    done = ok(run("--json", "governance", "status")).json()["operations"]
    assert [o["state"] for o in done if o["operation_id"] == scheduled["operation_id"]] == ["executed"]


def test_quote_first_from_a_draft_then_disputed_and_ruled_by_the_panel(run, v2, kubo, anvil, tmp_path, dev_accounts):
    maker = onboard(run, v2)
    design = tmp_path / "part.stl"
    design.write_bytes(b"solid part\n" + os.urandom(3000) + b"endsolid part\n")
    draft = tmp_path / "draft.json"
    drafted = ok(run("--account", "buyer", "--json", "order", "draft", "--design", design, "--process", "FDM",
                     "--material", "PLA", "--qty", "1", "--price", "0.02", "--award-by", "+1d", "--deliver-by", "+6d",
                     "--out", draft)).json()
    order_id = drafted["order_id"]
    assert not any(v2.book.order_hash(order_id))  # nothing posted, nothing escrowed
    mixed = run("--account", "buyer", "-y", "order", "post", "--draft", draft, "--price", "1")
    assert mixed.exit_code == 2 and "--price cannot change it" in mixed.stderr
    quote_file = tmp_path / "q.json"
    ok(run("--account", "maker", "quote", "--draft", draft, "--sign-only", quote_file, "--price", "0.02",
           "--lead-time", "2d"))
    posted = ok(run("--account", "buyer", "--json", "-y", "order", "post", "--draft", draft, "--quote", quote_file))
    assert posted.json()["order_id"] == order_id and posted.json()["partner"] == maker
    t = v2.book.load_order(order_id, v2.from_block)
    assert (t.status, t.partner, [link.kind for link in t.transitions]) == (OrderStatus.AWARDED, maker, [1])
    again = run("--account", "buyer", "-y", "order", "post", "--draft", draft, "--quote", quote_file)
    assert again.exit_code == 1 and "posted already" in again.stderr

    ok(run("--account", "maker", "-y", "order", "ship", str(order_id), "--report",
           passing_report(v2, kubo, tmp_path, order_id, maker)))
    evidence = tmp_path / "photo.txt"
    evidence.write_text("the holes are 5.8 mm")
    disputed = ok(run("--account", "buyer", "--json", "-y", "order", "dispute", str(order_id), "--evidence",
                      evidence)).json()
    assert disputed["fee"] == v2.panel.arbitration_cost()
    waiting = ok(run("--json", "arbitration", "status", str(order_id))).json()
    assert waiting["dispute_id"] is None and waiting["fee_due_by"] > v2.now()
    early = run("--account", "arbitrator", "-y", "arbitration", "vote", str(order_id), "--buyer-share", "30")
    assert early.exit_code == 1 and "has not matched the fee" in early.stderr
    ok(run("--account", "maker", "-y", "arbitration", "pay-fee", str(order_id)))
    ok(run("--account", "maker", "-y", "arbitration", "evidence", str(order_id), "--evidence", evidence))
    assert [r.kind for r in v2.book.load_order(order_id, v2.from_block).records] == [2, 3]  # fee paid, evidence
    party = run("--account", "maker", "-y", "arbitration", "vote", str(order_id), "--buyer-share", "0")
    assert party.exit_code == 1 and "NotMember" in party.stderr  # the maker is no panel member
    for member in ("arbitrator", "panelist"):
        ok(run("--account", member, "-y", "arbitration", "vote", str(order_id), "--buyer-share", "30"))
    status = ok(run("--json", "arbitration", "status", str(order_id))).json()
    assert (status["phase"], status["ruling"], status["votes_for_ruling"]) == ("APPEALABLE", 31, 2)
    assert "31 (30% of the price to the buyer)" in ok(run("arbitration", "status", str(order_id))).stdout
    too_soon = run("--account", "stranger", "-y", "arbitration", "execute", str(order_id))
    assert too_soon.exit_code == 1 and too_soon.stderr.count("\n") == 1
    anvil.rpc("evm_increaseTime", v2.panel.appeal_window() + 1)
    anvil.rpc("evm_mine")
    late = run("--account", "stranger", "-y", "arbitration", "appeal", str(order_id))
    assert late.exit_code == 1 and "not appealable now" in late.stderr
    ok(run("--account", "stranger", "-y", "arbitration", "execute", str(order_id)))
    t = v2.book.load_order(order_id, v2.from_block)
    assert t.status == OrderStatus.RESOLVED and t.resolution[:2] == (6 * 10**15, 14 * 10**15)


def test_partner_show_list_and_unvet(run, v2):
    maker = onboard(run, v2)
    shown = ok(run("--json", "partner", "show", maker)).json()
    assert shown["vetted"] and shown["free_bond"] == shown["bond"] == 10**17 and shown["locked_bond"] == 0
    assert "free_bond: 0.1 ETH" in ok(run("partner", "show", maker)).stdout
    assert [p["address"] for p in ok(run("--json", "partner", "list")).json()] == [maker]
    stale = run("--account", "certifier", "-y", "partner", "vet", maker, "--profile-hash", "0x" + "00" * 32)
    assert stale.exit_code == 1 and "ProfileHashMismatch" in stale.stderr
    ok(run("--account", "certifier", "-y", "partner", "unvet", maker))
    assert not ok(run("--json", "partner", "show", maker)).json()["vetted"]


def test_v2_reads_import_nothing_that_signs_or_seals(run, v2, anvil, kubo, tmp_path, v2_deployments_dir) -> None:
    """order list/show, partner list, governance status, arbitration status, check and audit all on v2 read over
    plain JSON-RPC: web3, eth_account, the ciphers and the mesh libraries stay unloaded, and so do eth_abi, eth_utils
    and pydantic (the v2 hashes, events and addresses are core/abi_types' and core/address'), requests and
    ipfshttpclient (Kubo over the standard library's HTTP client) and, under --json, rich, the audit too (its
    documents are read by the plain readers, key envelopes without the cipher library)."""
    import subprocess
    import sys

    order_id = post(run, tmp_path)
    env = {**os.environ, "FABMESH_HOME": str(tmp_path / "fresh-home"), "FABMESH_RPC_URL": anvil.rpc_url,
           "FABMESH_DEPLOYMENTS": str(v2_deployments_dir), "FABMESH_CONFIRMATIONS": "0", "FABMESH_PROTOCOL": "2",
           "FABMESH_IPFS_API": kubo.api_url}
    heavy = ("web3", "eth_account", "cryptography", "aiohttp", "ipfshttpclient", "requests", "numpy", "trimesh",
             "rich", "eth_abi", "eth_utils", "pydantic")
    for argv in (["--json", "order", "list"], ["--json", "order", "show", str(order_id)], ["--json", "partner", "list"],
                 ["--json", "governance", "status"], ["--json", "arbitration", "status", str(order_id)],
                 ["--json", "check"], ["--json", "audit", "all"]):
        probe = ("import atexit, json, sys\n"
                 "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
                 f"from pynode.cli.main import main\nmain({argv!r})")
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=env,
                              check=False)
        modules = set(json.loads(done.stderr.strip().splitlines()[-1]))
        assert json.loads(done.stdout) is not None, argv  # data only on stdout
        assert [m for m in heavy if m in modules] == [], argv


def test_registry_commands_and_a_cancelled_quote(run, v2, tmp_path, dev_accounts):
    maker = onboard(run, v2)
    inspector = dev_accounts["inspector"].address
    ok(run("--account", "certifier", "-y", "partner", "certify", maker, "--cert", "ISO_9001", "--expires", "+30d"))
    assert v2.registry.is_certified(maker, 1)
    ok(run("--account", "certifier", "-y", "partner", "accredit", inspector, "--expires", "+30d"))
    assert v2.registry.is_accredited_inspector(inspector)
    ok(run("--account", "maker", "-y", "partner", "add-bond", "0.05"))
    assert v2.registry.partner_info(maker).bond == 15 * 10**16

    order_id = post(run, tmp_path)
    quote_file = sign(run, tmp_path, order_id, "--nonce", "777")
    ok(run("--account", "maker", "-y", "partner", "cancel-quote", "777"))
    assert v2.book.quote_nonce_used(maker, 777)
    cancelled = run("--account", "buyer", "-y", "order", "award", str(order_id), "--quote", quote_file)
    assert cancelled.exit_code == 1 and "cancelled or used" in cancelled.stderr
    not_yet = run("--account", "maker", "-y", "partner", "withdraw-bond")
    assert not_yet.exit_code == 1 and "partner unbond" in not_yet.stderr

    ok(run("--account", "guardian", "-y", "partner", "suspend", maker))
    assert v2.registry.partner_info(maker).suspended
    refused = run("--account", "maker", "quote", str(order_id), "--sign-only", "-", "--price", "0.01",
                  "--lead-time", "1d")
    assert refused.exit_code == 1 and refused.stdout == "" and "not awardable" in refused.stderr


def test_an_unmatched_dispute_is_won_by_default(run, v2, kubo, anvil, tmp_path, dev_accounts):
    maker = onboard(run, v2)
    order_id = post(run, tmp_path)
    ok(run("--account", "buyer", "-y", "order", "award", str(order_id), "--quote", sign(run, tmp_path, order_id)))
    ok(run("--account", "maker", "-y", "order", "ship", str(order_id), "--report",
           passing_report(v2, kubo, tmp_path, order_id, maker)))
    evidence = tmp_path / "e.txt"
    evidence.write_text("cracked")
    ok(run("--account", "buyer", "-y", "order", "dispute", str(order_id), "--evidence", evidence))
    early = run("--account", "stranger", "-y", "arbitration", "claim-default", str(order_id))
    assert early.exit_code == 1 and early.stderr.count("\n") == 1
    anvil.rpc("evm_increaseTime", v2.book.constant("FEE_RESPONSE_WINDOW") + 1)
    anvil.rpc("evm_mine")
    ok(run("--account", "stranger", "-y", "arbitration", "claim-default", str(order_id)))
    t = v2.book.load_order(order_id, v2.from_block)
    assert t.status == OrderStatus.RESOLVED and t.resolution[3]  # the bond went to the buyer


def test_check_reads_the_v2_record(run, v2):
    result = ok(run("--account", "buyer", "--json", "check"))
    assert [c["check"] for c in result.json()["checks"]] == [
        "rpc + deployment", "AccessManager code", "PartnerRegistryV2 code", "OrderBookV2 code", "PanelArbitrator code",
        "ipfs", "account balance"]
    assert ".v2.json" in result.json()["checks"][0]["detail"]


def test_an_inspector_attests_directly_and_by_a_relayed_signature(run, v2, tmp_path, dev_accounts):
    onboard(run, v2)
    inspector = dev_accounts["inspector"].address
    ok(run("--account", "certifier", "-y", "partner", "accredit", inspector, "--expires", "+30d"))
    order_id = post(run, tmp_path, "--inspector", inspector)
    unnamed = post(run, tmp_path, name="other.stl")
    for o in (order_id, unnamed):
        ok(run("--account", "buyer", "-y", "order", "award", str(o), "--quote", sign(run, tmp_path, o, name=f"{o}.q")))
    report = tmp_path / "inspection.json"
    ok(run("--account", "inspector", "order", "report", str(order_id), "--measure", "hole_d=6.2", "--out", report))
    refused = run("--account", "inspector", "-y", "attest", str(unnamed), "--report", report, "--fail")
    assert refused.exit_code == 1 and "does not name" in refused.stderr
    ok(run("--account", "inspector", "-y", "attest", str(order_id), "--report", report, "--fail"))
    signed = tmp_path / "signed.json"
    ok(run("--account", "inspector", "attest", str(order_id), "--report", report, "--fail", "--sign-only", signed))
    ok(run("--account", "stranger", "-y", "relay-attestation", signed))
    t = v2.book.load_order(order_id, v2.from_block)
    assert [(a.inspector, a.passed) for a in t.attestations] == [(inspector, False), (inspector, False)]
    assert v2.registry.partner_info(t.partner).failed_qa == 1  # counted once per order
    replayed = run("--account", "stranger", "-y", "relay-attestation", signed)
    assert replayed.exit_code == 1 and replayed.stderr.count("\n") == 1


def test_a_shipped_order_settled_by_a_split_the_other_party_signed(run, v2, kubo, tmp_path, dev_accounts):
    maker = onboard(run, v2)
    order_id = post(run, tmp_path)
    ok(run("--account", "buyer", "-y", "order", "award", str(order_id), "--quote", sign(run, tmp_path, order_id)))
    ok(run("--account", "maker", "-y", "order", "ship", str(order_id), "--report",
           passing_report(v2, kubo, tmp_path, order_id, maker)))
    offer = tmp_path / "offer.json"
    ok(run("--account", "buyer", "arbitration", "offer", str(order_id), "--buyer-share", "0.01", "--out", offer))
    own = run("--account", "buyer", "-y", "arbitration", "settle", str(order_id), "--offer", offer)
    assert own.exit_code == 1 and "not signed by the other party" in own.stderr
    tampered = tmp_path / "tampered.json"
    document = json.loads(offer.read_text())
    document["buyer_share"] = "0"
    tampered.write_text(json.dumps(document))
    forged = run("--account", "maker", "-y", "arbitration", "settle", str(order_id), "--offer", tampered)
    assert forged.exit_code == 1 and "not signed by the other party" in forged.stderr
    assert v2.book.load_order(order_id, v2.from_block).status == OrderStatus.SHIPPED
    ok(run("--account", "maker", "-y", "arbitration", "settle", str(order_id), "--offer", offer))
    t = v2.book.load_order(order_id, v2.from_block)
    assert t.status == OrderStatus.RESOLVED and t.resolution[:2] == (10**16, 3 * 10**16)
