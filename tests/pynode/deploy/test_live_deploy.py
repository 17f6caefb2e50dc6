"""The operator's deploy, `python scripts/deploy.py`, against a chain fabmesh did not start.

geth in dev mode (chain id 1337, a block every 2 s, no anvil_*/evm_* methods)
is started as its own process, like any node an operator points the command
at; the deployer is a fresh v3 keystore funded from geth's dev account. No
private key is in the environment or argv: the command reads the keystore and a
password file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import solcx
from eth_account import Account
from web3 import Web3

from pynode.chain.client import Chain
from pynode.chain.contracts import _Wrapper
from pynode.chain.deployment import load_deployment, record_name
from pynode.chain.provider import connect
from pynode.chain.v2.manager import AccessManager, function_selectors
from pynode.core.settings import Settings
from pynode.deploy.compiler import CHECKOUT, SOLCX_DIR
from pynode.deploy.deployer_v2 import SOURCES
from pynode.dev.geth import GETH_DEV_CHAIN_ID, Geth
from pynode.protocol.v2.governance import (
    ADMIN_ROLE,
    CERTIFIER,
    GOVERNANCE,
    GOVERNANCE_DELAY,
    GUARDIAN,
    ROLE_FUNCTIONS,
    TARGETS,
)

pytestmark = pytest.mark.integration

PASSWORD = "deployer password"
CONFIRMATIONS = 2
RECORD_FIELDS = {"chainId", "deployBlock", "deployer", "admin", "contracts", "roles", "tokens", "params",
                 "transactions", "confirmations", "compiler", "git"}
CONTRACT_FIELDS = {"address", "transactionHash", "blockNumber", "constructorArguments",
                   "constructorArgumentsEncoded", "standardJsonInput"}


@pytest.fixture(scope="module")
def geth(tmp_path_factory):
    with Geth(tmp_path_factory.mktemp("geth"), block_period=2) as node:
        yield node


@pytest.fixture(scope="module")
def keystore(geth, tmp_path_factory) -> tuple[Path, Path, str]:
    """A v3 keystore (cheap scrypt) and its password file; the account is funded on geth."""
    folder = tmp_path_factory.mktemp("deployer")
    account = Account.create()
    (folder / "deployer.json").write_text(json.dumps(Account.encrypt(account.key, PASSWORD, iterations=1024)))
    (folder / "password").write_text(PASSWORD + "\n")
    geth.fund([account.address], 10**20)
    return folder / "deployer.json", folder / "password", account.address


def _run(geth, *args: str, keystore: Path, password_file: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FABMESH_", "ETH_"))}
    return subprocess.run([sys.executable, str(CHECKOUT / "scripts" / "deploy.py"), "--rpc-url", geth.rpc_url,
                           "--keystore", str(keystore), "--password-file", str(password_file), *args],
                          env=clean, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def roles():
    return {name: Account.create().address for name in ("admin", "certifier", "inspector", "arbitrator", "token")}


@pytest.fixture(scope="module")
def deployed(geth, keystore, roles, tmp_path_factory):
    """One v1 deployment with a separate admin (as a Safe would be), every role and a token: (result, directory)."""
    directory = tmp_path_factory.mktemp("deployments")
    path, password_file, _ = keystore
    result = _run(geth, "--protocol", "1", "--admin", roles["admin"], "--certifier", roles["certifier"], "--inspector",
                  roles["inspector"], "--arbitrator", roles["arbitrator"], "--token", roles["token"],
                  "--confirmations", str(CONFIRMATIONS), "--deployments-dir", str(directory),
                  keystore=path, password_file=password_file)
    return result, directory


def _record(directory: Path) -> dict:
    return json.loads((directory / f"{GETH_DEV_CHAIN_ID}.json").read_text())


def test_deploy_writes_a_complete_record(geth, keystore, roles, deployed):
    result, directory = deployed
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(directory / f"{GETH_DEV_CHAIN_ID}.json")
    assert "Traceback" not in result.stderr
    assert "deploy PartnerRegistry: mined in block" in result.stderr  # progress, step by step
    assert f"waiting for confirmations: 1/{CONFIRMATIONS}" in result.stderr  # and while the last one deepens

    record = _record(directory)
    assert record.keys() >= RECORD_FIELDS
    assert record["chainId"] == GETH_DEV_CHAIN_ID
    assert record["deployer"] == keystore[2] and record["admin"] == roles["admin"]
    assert record["confirmations"] == CONFIRMATIONS
    assert record["roles"] == {"governors": [roles["admin"]], "certifiers": [roles["certifier"]],
                               "inspectors": [roles["inspector"]], "arbitrators": [roles["arbitrator"]]}
    assert record["tokens"] == [roles["token"]]
    assert record["compiler"]["version"].startswith("0.8.37+commit.")
    assert record["compiler"]["evmVersion"] == "cancun"
    assert record["compiler"]["optimizer"] == {"enabled": True, "runs": 10000}
    assert re.fullmatch(r"[0-9a-f]{40}", record["git"]["commit"])
    assert isinstance(record["git"]["dirty"], bool)

    w3 = Web3(Web3.HTTPProvider(geth.rpc_url))
    for name, entry in record["contracts"].items():
        assert entry.keys() >= CONTRACT_FIELDS, name
        receipt = w3.eth.get_transaction_receipt(entry["transactionHash"])
        assert receipt["status"] == 1 and receipt["contractAddress"] == entry["address"]
        assert receipt["blockNumber"] == entry["blockNumber"]
        assert (directory / entry["standardJsonInput"]).is_file()
    assert record["deployBlock"] == record["contracts"]["PartnerRegistry"]["blockNumber"]
    assert record["contracts"]["PartnerRegistry"]["constructorArguments"]["orderBook_"] == \
        record["contracts"]["OrderBook"]["address"]
    for tx in record["transactions"]:
        assert w3.eth.get_transaction_receipt(tx["hash"])["status"] == 1, tx["label"]
    # the last transaction had its confirmations (blocks on top) before the record was written
    assert w3.eth.block_number - record["transactions"][-1]["block"] >= CONFIRMATIONS


def test_admin_holds_the_contracts_and_pynode_reads_the_record(geth, keystore, roles, deployed):
    _, directory = deployed
    chain = Chain.connect(Settings(rpc_url=geth.rpc_url, deployments=directory, confirmations=0))
    me, admin = keystore[2], roles["admin"]
    for contract in (chain.registry, chain.book):
        assert contract.call("hasRole", b"\0" * 32, admin)
        assert not contract.call("hasRole", b"\0" * 32, me)  # the deployer renounced
        assert contract.has_role("GOVERNANCE_ROLE", admin) and not contract.has_role("GOVERNANCE_ROLE", me)
    assert chain.registry.has_role("CERTIFIER_ROLE", roles["certifier"])
    assert chain.book.has_role("INSPECTOR_ROLE", roles["inspector"])
    assert chain.book.has_role("ARBITRATOR_ROLE", roles["arbitrator"])
    assert chain.book.token_allowed(roles["token"])
    assert chain.book.call("feeRecipient") == admin
    assert chain.registry.min_bond() == 10**17 and chain.book.dispute_timeout() == 14 * 86400


def _recompile(standard: dict) -> dict:
    """solc itself on the written input, not the deploy's compile cache."""
    os.environ.setdefault("SOLCX_BINARY_PATH", str(SOLCX_DIR))
    return solcx.compile_standard(standard, solc_version="0.8.37")


def _masked(code: bytes, immutable_references: dict) -> bytes:
    out = bytearray(code)
    for spans in immutable_references.values():
        for span in spans:
            out[span["start"]:span["start"] + span["length"]] = bytes(span["length"])
    return bytes(out)


@pytest.mark.parametrize("protocol", [1, 2])
def test_written_standard_json_recompiles_to_the_deployed_bytecode(geth, request, protocol):
    directory = request.getfixturevalue("deployed" if protocol == 1 else "deployed_v2")[1]
    record = json.loads((directory / record_name(GETH_DEV_CHAIN_ID, protocol)).read_text())
    w3 = Web3(Web3.HTTPProvider(geth.rpc_url))
    with_immutables = 0
    for name, entry in record["contracts"].items():
        standard = json.loads((directory / entry["standardJsonInput"]).read_text())
        assert all("content" in source for source in standard["sources"].values())  # self-contained
        unit = f"contracts/{name}.sol" if protocol == 1 else SOURCES[name]
        output = _recompile(standard)["contracts"][unit][name]["evm"]
        creation = bytes.fromhex(output["bytecode"]["object"])
        runtime = bytes.fromhex(output["deployedBytecode"]["object"])
        immutables = output["deployedBytecode"]["immutableReferences"]

        sent = w3.eth.get_transaction(entry["transactionHash"])["input"]
        assert bytes(sent) == creation + bytes.fromhex(entry["constructorArgumentsEncoded"][2:])
        on_chain = bytes(w3.eth.get_code(entry["address"]))
        assert len(on_chain) == len(runtime)
        assert _masked(on_chain, immutables) == _masked(runtime, immutables)
        with_immutables += bool(immutables)
    assert with_immutables >= 2  # the books and registries have immutables: the masking above is not vacuous


def test_second_run_refuses_to_overwrite_without_force(geth, keystore, deployed):
    _, directory = deployed
    path, password_file, address = keystore
    before = (directory / f"{GETH_DEV_CHAIN_ID}.json").read_bytes()
    nonce = Web3(Web3.HTTPProvider(geth.rpc_url)).eth.get_transaction_count(address)

    result = _run(geth, "--protocol", "1", "--deployments-dir", str(directory), keystore=path,
                  password_file=password_file)

    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "--force" in result.stderr, result.stderr
    assert (directory / f"{GETH_DEV_CHAIN_ID}.json").read_bytes() == before
    assert Web3(Web3.HTTPProvider(geth.rpc_url)).eth.get_transaction_count(address) == nonce  # nothing sent


def test_force_replaces_the_record(geth, keystore, deployed):
    _, directory = deployed
    path, password_file, address = keystore
    old = _record(directory)

    result = _run(geth, "--protocol", "1", "--force", "--confirmations", "0", "--deployments-dir", str(directory),
                  keystore=path, password_file=password_file)

    assert result.returncode == 0, result.stderr
    new = _record(directory)
    assert new["contracts"]["OrderBook"]["address"] != old["contracts"]["OrderBook"]["address"]
    assert new["admin"] == address and new["roles"]["governors"] == [address]  # no --admin: the deployer


@pytest.mark.parametrize("case", ["wrong password", "not a keystore", "missing keystore", "missing password file"])
def test_bad_keystore_or_password_is_one_line_and_writes_nothing(geth, keystore, tmp_path, case):
    path, password_file, address = keystore
    if case == "wrong password":
        password_file = tmp_path / "wrong"
        password_file.write_text("not it\n")
    elif case == "not a keystore":
        path = tmp_path / "key.json"
        path.write_text('{"address": "' + address + '"}')
    elif case == "missing keystore":
        path = tmp_path / "absent.json"
    else:
        password_file = tmp_path / "absent"
    directory = tmp_path / "deployments"
    nonce = Web3(Web3.HTTPProvider(geth.rpc_url)).eth.get_transaction_count(address)

    result = _run(geth, "--deployments-dir", str(directory), keystore=path, password_file=password_file)

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.strip().count("\n") == 0, result.stderr
    assert not directory.exists()
    assert Web3(Web3.HTTPProvider(geth.rpc_url)).eth.get_transaction_count(address) == nonce


def test_unreachable_node_and_bad_admin_are_one_line(tmp_path, keystore, held_port):
    path, password_file, _ = keystore
    for args, exit_code in ((["--admin", "0x1234"], 2), ([], 1)):
        result = subprocess.run([sys.executable, str(CHECKOUT / "scripts" / "deploy.py"), "--rpc-url",
                                 f"http://127.0.0.1:{held_port}", "--keystore", str(path),
                                 "--password-file", str(password_file),
                                 "--deployments-dir", str(tmp_path / "d"), *args],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == exit_code, result.stderr
        assert result.stderr.startswith("error: ") and result.stderr.strip().count("\n") == 0, result.stderr
        assert not (tmp_path / "d").exists()



def test_an_unfunded_deployer_is_one_line_and_writes_nothing(geth, tmp_path):
    account = Account.create()
    (tmp_path / "k.json").write_text(json.dumps(Account.encrypt(account.key, PASSWORD, iterations=1024)))
    (tmp_path / "pw").write_text(PASSWORD)

    result = _run(geth, "--protocol", "1", "--deployments-dir", str(tmp_path / "d"), keystore=tmp_path / "k.json",
                  password_file=tmp_path / "pw")

    assert result.returncode == 1
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: deploy PartnerRegistry: ") and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "d").exists()


def test_a_foundry_keystore_deploys(geth, tmp_path):
    """`cast wallet new` writes no address field: the deployer is the address the key derives."""
    fixtures = CHECKOUT / "tests" / "pynode" / "wallet" / "fixtures"
    (tmp_path / "pw").write_text("foundry pw\n")
    address = "0xA4D63758d6ec94BA679e7BFE37cf9B03DB850db5"  # fixtures/README.md
    geth.fund([address], 10**19)

    result = _run(geth, "--protocol", "1", "--confirmations", "0", "--deployments-dir", str(tmp_path / "d"),
                  keystore=fixtures / "foundry-new.json", password_file=tmp_path / "pw")

    assert result.returncode == 0, result.stderr
    assert _record(tmp_path / "d")["deployer"] == address


# ---------------------------------------------------------------- protocol v2

@pytest.fixture(scope="module")
def deployed_v2(geth, keystore, roles, tmp_path_factory):
    """The default protocol, 2 (no --protocol), handed to a separate admin, with a guardian, a certifier, a 2-of-3
    panel and a token: (result, directory, the accounts named)."""
    directory = tmp_path_factory.mktemp("deployments-v2")
    path, password_file, _ = keystore
    named = {"guardian": Account.create().address, "panel": [Account.create().address for _ in range(3)]}
    panel = [arg for member in named["panel"] for arg in ("--panel-member", member)]
    result = _run(geth, "--admin", roles["admin"], "--guardian", named["guardian"],
                  "--certifier", roles["certifier"], "--token", roles["token"], *panel, "--panel-quorum", "2",
                  "--confirmations", str(CONFIRMATIONS), "--deployments-dir", str(directory),
                  keystore=path, password_file=password_file)
    return result, directory, named


def test_v2_deploy_writes_its_record_and_pynode_loads_it(geth, keystore, roles, deployed_v2):
    result, directory, named = deployed_v2
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(directory / f"{GETH_DEV_CHAIN_ID}.v2.json")
    assert "Traceback" not in result.stderr and "deploy OrderBookV2: mined in block" in result.stderr
    record = json.loads((directory / f"{GETH_DEV_CHAIN_ID}.v2.json").read_text())
    assert record.keys() >= RECORD_FIELDS | {"protocol", "governance", "panel"}
    assert record["protocol"] == 2 and record["deployer"] == keystore[2] and record["admin"] == roles["admin"]
    assert record["panel"]["members"] == named["panel"] and record["panel"]["quorum"] == 2
    w3 = Web3(Web3.HTTPProvider(geth.rpc_url))
    for tx in record["transactions"]:
        assert w3.eth.get_transaction_receipt(tx["hash"])["status"] == 1, tx["label"]
    assert w3.eth.block_number - record["transactions"][-1]["block"] >= CONFIRMATIONS
    deployment = load_deployment(GETH_DEV_CHAIN_ID, directory, None, protocol=2)
    assert {n: i.address for n, i in deployment.contracts.items()} == {
        n: e["address"] for n, e in record["contracts"].items()}
    assert record["contracts"]["PartnerRegistryV2"]["constructorArguments"]["orderBook_"] == \
        record["contracts"]["OrderBookV2"]["address"]


def test_v2_governance_is_the_admins_with_the_delay_and_the_deployer_keeps_nothing(geth, keystore, roles,
                                                                                  deployed_v2):
    _, directory, named = deployed_v2
    deployment = load_deployment(GETH_DEV_CHAIN_ID, directory, None, protocol=2)
    w3 = connect(geth.rpc_url)
    manager = AccessManager(w3, deployment["AccessManager"])
    me, admin = keystore[2], roles["admin"]
    assert manager.membership(ADMIN_ROLE, admin) == (True, GOVERNANCE_DELAY)
    assert manager.membership(GOVERNANCE, admin) == (True, GOVERNANCE_DELAY)
    assert manager.membership(ADMIN_ROLE, me) == (False, 0) and manager.membership(GOVERNANCE, me) == (False, 0)
    assert manager.membership(GUARDIAN, named["guardian"]) == (True, 0)
    assert manager.membership(CERTIFIER, roles["certifier"]) == (True, 0)
    for key, by_role in ROLE_FUNCTIONS.items():
        info = deployment[TARGETS[key]]
        for role, names in by_role.items():
            assert {manager.target_function_role(info.address, s) for s in function_selectors(info.abi, names)} \
                == {role}, names
    book = _Wrapper(w3, deployment["OrderBookV2"])
    assert book.call("tokenAllowed", roles["token"]) is True and book.call("feeRecipient") == admin
    panel = _Wrapper(w3, deployment["PanelArbitrator"])
    _, members, quorum = panel.call("panel")
    assert (list(members), quorum) == (named["panel"], 2)


@pytest.mark.parametrize(("args", "exit_code", "says"), [
    (["--inspector", "0x" + "11" * 20], 2, "--inspector is not an option of protocol 2"),  # the default
    (["--protocol", "1", "--guardian", "0x" + "11" * 20], 2, "--guardian is not an option of protocol 1"),
    (["--protocol", "2", "--panel-member", "0x" + "11" * 20], 2, "--panel-member and --panel-quorum go together"),
    (["--protocol", "2", "--governance-delay", "60"], 1, "governance_delay 60 s is under 172800 s"),
    (["--protocol", "2", "--panel-member", "0x" + "11" * 20, "--panel-quorum", "2"], 1, "panel quorum must be in"),
])
def test_v2_bad_options_are_one_line_and_send_nothing(geth, keystore, tmp_path, args, exit_code, says):
    path, password_file, address = keystore
    nonce = Web3(Web3.HTTPProvider(geth.rpc_url)).eth.get_transaction_count(address)

    result = _run(geth, *args, "--deployments-dir", str(tmp_path / "d"), keystore=path, password_file=password_file)

    assert result.returncode == exit_code, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.strip().count("\n") == 0, result.stderr
    assert says in result.stderr
    assert not (tmp_path / "d").exists()
    assert Web3(Web3.HTTPProvider(geth.rpc_url)).eth.get_transaction_count(address) == nonce
