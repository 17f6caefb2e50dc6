"""`fabmesh --protocol 2 governance ... --via-safe` and `governance safe sign/show/execute` on a real anvil, v2
deployed with a 2-of-3 Safe holding the AccessManager's ADMIN and GOVERNANCE (the dev plan with safe_owners): the
fee change proposed as a file, signed by two owners in separate processes and files, executed through the Safe,
waited out (anvil only: the chain's clock is advanced past the dev governance delay of 60 s), executed; stale,
foreign, under-signed, stranger-signed and tampered proposals refused in one line with nothing sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from pynode.chain.v2.client import ChainV2
from pynode.chain.v2.manager import restricted_call
from pynode.chain.v2.safe import load_safe
from pynode.chain.v2.safe_tx import SafeProposal, parse_safe_proposal
from pynode.core.settings import Settings
from pynode.dev.accounts import DEV_GOVERNANCE_DELAY, DEV_SAFE_THRESHOLD, safe_owner_accounts
from pynode.dev.deploy import deploy_v2

pytestmark = [pytest.mark.integration, pytest.mark.own_chain]  # it travels in time

PASSWORD = "correct horse"
NEW_FEE = ("book", "setFee", "100")


@pytest.fixture(scope="module")
def governed_dir(anvil, tmp_path_factory) -> Path:
    """A dev v2 deployment whose admin and governor is a new 2-of-3 Safe of the dev Safe owners."""
    directory = tmp_path_factory.mktemp("safe-governed")
    deploy_v2(anvil.rpc_url, anvil.chain_id, directory,
              safe_owners=[o.address for o in safe_owner_accounts().values()], safe_threshold=DEV_SAFE_THRESHOLD)
    return directory


@pytest.fixture
def gov(run, anvil, governed_dir, monkeypatch, tmp_path, dev_accounts, password_file):
    """The CLI on protocol 2 against the Safe-governed deployment, the owners and a relayer as keystores; the chain
    is reverted after the test."""
    snapshot = anvil.rpc("evm_snapshot")
    env = {"FABMESH_RPC_URL": anvil.rpc_url, "FABMESH_DEPLOYMENTS": str(governed_dir),
           "FABMESH_PASSWORD_FILE": str(password_file), "FABMESH_PROTOCOL": "2"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name, account in {**safe_owner_accounts(), "relayer": dev_accounts["stranger"]}.items():
        keyfile = tmp_path / f"{name}.json"
        keyfile.write_text(json.dumps(Account.encrypt(account.key, PASSWORD, kdf="scrypt", iterations=1024)))
        assert run("wallet", "import", name, keyfile).exit_code == 0
    yield ChainV2.connect(Settings(rpc_url=anvil.rpc_url, deployments=governed_dir, confirmations=0))
    anvil.rpc("evm_revert", snapshot)


def ok(result):
    assert result.exit_code == 0, result.stderr
    return result


def refused(result, message: str) -> None:
    """Exit 1 with one error line naming `message`."""
    assert result.exit_code == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr


def in_own_process(account: str, *args: str) -> dict:
    """`fabmesh --account ACCOUNT --json ARGS` as a separate process (the console script), with the test's
    environment."""
    done = subprocess.run([str(Path(sys.executable).with_name("fabmesh")), "--account", account, "--json", *args],
                          capture_output=True,
                          text=True, timeout=120, check=False, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _sent_nothing(gov, governed_dir: Path, relayer: str):
    """A check that neither the relayer nor the Safe moved since this call."""
    safe = load_safe(gov.rpc, gov.chain_id, governed_dir)
    before = (gov.w3.eth.get_transaction_count(relayer), safe.nonce())
    return lambda: (gov.w3.eth.get_transaction_count(relayer), safe.nonce()) == before


def test_a_fee_change_through_the_safe(run, gov, anvil, governed_dir, dev_accounts, tmp_path):
    owner1, _, owner3 = safe_owner_accounts().values()
    relayer = dev_accounts["stranger"].address
    recipient = owner1.address
    call = (*NEW_FEE, recipient)
    draft = tmp_path / "schedule.json"
    written = ok(run("--json", "governance", "schedule", *call, "--via-safe", "--out", draft)).json()  # no account
    assert written["signers"] == [] and written["threshold"] == 2 and written["nonce"] == 0
    assert written["delay"] == DEV_GOVERNANCE_DELAY and written["caller"] == written["safe"]
    ok(run("--account", "owner1", "--json", "governance", "safe", "sign", draft, "--out", tmp_path / "a.json"))
    signed = in_own_process("owner3", "governance", "safe", "sign", str(draft), "--out", str(tmp_path / "b.json"))
    # another owner, another process, another copy
    assert signed["signers"] == [owner3.address]

    shown = ok(run("--json", "governance", "safe", "show", tmp_path / "a.json")).json()
    assert shown["nonce_state"] == "current" and shown["signers"] == [owner1.address]
    inner = shown["call"]["inner"]
    assert (shown["call"]["function"], inner["contract"], inner["function"]) == ("schedule", "OrderBookV2", "setFee")
    assert inner["args"] == {"newFeeBps": 100, "recipient": recipient}
    human = ok(run("governance", "safe", "show", tmp_path / "a.json")).stdout
    assert "would schedule OrderBookV2.setFee(newFeeBps=100, recipient=" in human and "1 of 2 needed" in human
    unchanged = _sent_nothing(gov, governed_dir, relayer)
    refused(run("--account", "relayer", "-y", "governance", "safe", "execute", tmp_path / "a.json"),
            "1 of the 2 owner signatures")
    assert unchanged()

    executed = ok(run("--account", "relayer", "--json", "-y", "governance", "safe", "execute", tmp_path / "a.json",
                      tmp_path / "b.json")).json()
    assert [e["event"] for e in executed["events"]] == ["OperationScheduled"]
    ready = executed["events"][0]["ready_at"]
    assert ready >= gov.now() + DEV_GOVERNANCE_DELAY - 1
    assert ready == gov.manager.ready_at(executed["safe"], restricted_call(gov.book, "setFee", 100, recipient))
    assert executed["signers"] == sorted([owner1.address, owner3.address])

    proposal = tmp_path / "execute.json"
    early = ok(run("--account", "owner2", "governance", "execute", *call, "--via-safe", "--out", proposal)).stdout
    assert "executable from" in early and "1 of 2 owner signatures" in early
    in_own_process("owner3", "governance", "safe", "sign", str(proposal))  # in place
    unchanged = _sent_nothing(gov, governed_dir, relayer)
    refused(run("--account", "relayer", "-y", "governance", "safe", "execute", proposal), "nothing sent")
    assert unchanged() and gov.book.fee_bps() == 0

    anvil.rpc("evm_increaseTime", DEV_GOVERNANCE_DELAY + 1)  # anvil only: the delay is waited out on its clock
    anvil.rpc("evm_mine")
    done = ok(run("--account", "relayer", "-y", "governance", "safe", "execute", proposal)).stdout
    assert "executed OrderBookV2.setFee(newFeeBps=100" in done
    assert (gov.book.fee_bps(), gov.book.fee_recipient()) == (100, recipient)

    stale = ok(run("--json", "governance", "safe", "show", proposal)).json()
    assert stale["nonce_state"] == "stale" and stale["safe_nonce"] == 2
    unchanged = _sent_nothing(gov, governed_dir, relayer)
    refused(run("--account", "relayer", "-y", "governance", "safe", "execute", proposal), "nonce 1 was used already")
    refused(run("--account", "owner1", "governance", "safe", "sign", proposal), "nonce 1 was used already")
    assert unchanged()


def _proposal_file(run, tmp_path: Path, *signers: str) -> Path:
    """The fee change's schedule proposal, written by the first signer and signed by the others in place."""
    path = tmp_path / "proposal.json"
    ok(run("--account", signers[0], "governance", "schedule", *NEW_FEE, safe_owner_accounts()["owner1"].address,
           "--via-safe", "--out", path))
    for signer in signers[1:]:
        ok(run("--account", signer, "governance", "safe", "sign", path))
    return path


def _rewritten(path: Path, **changes) -> Path:
    document = json.loads(path.read_text()) | changes
    out = path.with_name("edited.json")
    out.write_text(json.dumps(document))
    return out


def test_bad_proposals_are_refused_and_nothing_is_sent(run, gov, governed_dir, dev_accounts, tmp_path):
    relayer = dev_accounts["stranger"]
    path = _proposal_file(run, tmp_path, "owner1", "owner2")
    unchanged = _sent_nothing(gov, governed_dir, relayer.address)
    execute = ("--account", "relayer", "-y", "governance", "safe", "execute")

    refused(run("--account", "owner1", "governance", "safe", "sign", path), "signed this proposal already")
    refused(run("--account", "relayer", "governance", "safe", "sign", path), "is not an owner of Safe")
    refused(run("--account", "relayer", "governance", "schedule", *NEW_FEE, relayer.address, "--via-safe", "--out",
                tmp_path / "other.json"), "is not an owner of Safe")
    assert not (tmp_path / "other.json").exists()

    proposal = parse_safe_proposal(path.read_bytes())
    foreign = tmp_path / "foreign.json"
    foreign.write_bytes(SafeProposal(proposal.safe, 1, proposal.to, proposal.data, proposal.nonce)
                        .signed_by(safe_owner_accounts()["owner1"]).signed_by(safe_owner_accounts()["owner2"]).to_json())
    for command in (execute, ("--account", "owner3", "governance", "safe", "sign"), ("governance", "safe", "show")):
        refused(run(*command, foreign), f"on chain 1, not {proposal.safe} on chain {gov.chain_id}")

    stranger = tmp_path / "stranger.json"
    stranger.write_bytes(proposal.signed_by(relayer).to_json())
    refused(run(*execute, stranger), f"{relayer.address} signed but not an owner of the Safe")

    fee = proposal.data.hex().replace(f"{100:064x}", f"{9999:064x}")
    assert fee != proposal.data.hex()
    refused(run(*execute, _rewritten(path, data="0x" + fee)), "safe_tx_hash does not match")
    rehashed = SafeProposal(proposal.safe, proposal.chain_id, proposal.to, bytes.fromhex(fee), proposal.nonce)
    refused(run(*execute, _rewritten(path, data="0x" + fee, safe_tx_hash="0x" + rehashed.hash().hex())),
            "was made by")
    refused(run(*execute, _rewritten(path, chain_id="31337")), "chain_id must be an integer")
    assert unchanged() and gov.book.fee_bps() == 0
    refused(run(*execute, path, stranger.with_name("foreign.json")), "is another transaction than")
    ok(run(*execute, path))
    fee_call = restricted_call(gov.book, "setFee", 100, safe_owner_accounts()["owner1"].address)
    assert gov.manager.ready_at(proposal.safe, fee_call) > 0

    cancel = tmp_path / "cancel.json"  # the Safe named by its address, as for one the record does not name
    ok(run("--account", "owner2", "governance", "cancel", *NEW_FEE, safe_owner_accounts()["owner1"].address,
           "--via-safe", proposal.safe, "--out", cancel))
    ok(run("--account", "owner3", "governance", "safe", "sign", cancel))
    shown = ok(run("governance", "safe", "show", cancel)).stdout
    assert "would cancel OrderBookV2.setFee(newFeeBps=100" in shown and f"scheduled by {proposal.safe}" in shown
    assert "2 of 2 needed" in shown and "the operation is executable from" in shown
    cancelled = ok(run(*execute, cancel)).stdout
    assert cancelled.startswith("cancelled OrderBookV2.setFee(") and gov.manager.ready_at(proposal.safe, fee_call) == 0
