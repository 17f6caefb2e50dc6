"""Malformed input through the `fabmesh` program, against real anvil and Kubo.

Each case runs the CLI's entry point in-process and must exit non-zero (2 for usage,
1 for any other error) with exactly one line on stderr (with --json, only data on stdout),
and leave everything as it was: the order book's and registry's ETH and token balances,
the order count and every order's on-chain hash, every role account's nonce, the
wallet directory (keystores, HPKE keys, design keys) file by file, and the
node's home with its SQLite job store, byte for byte. A few of the cases also run
`python -m pynode.cli` as a child process: the real exit code, and no traceback on stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from audit_helpers import Market, Report  # the auditor tests' real orders, envelopes and reports
from harness import NodeHome, write_config
from pynode.chain.client import Chain
from pynode.crypto.hpke import generate_keypair
from pynode.daemon.store import Store
from pynode.ipfs.cid import cid_to_digest
from pynode.ipfs.client import IpfsClient
from pynode.orders.buyer import OrderRequest
from pynode.wallet.hpke_keys import HpkeKeyStore
from pynode.wallet.keystore import Keystore
from support import deploy_test_token

pytestmark = pytest.mark.integration

PASSWORD = "correct horse"
SCRYPT_N = 1024
ROLES = ("buyer", "maker", "certifier", "inspector", "admin")


@dataclass
class World:
    """One deployment with orders in every state these cases need, and the files the cases feed the CLI."""

    chain: Chain
    env: dict[str, str]
    home: Path  # FABMESH_HOME: keystores, HPKE keys, design keys
    node: Path  # a node's home: node.toml variants, wallet, work/node.db
    token: object  # the TestERC20 contract
    accounts: dict
    paths: dict[str, str] = field(default_factory=dict)

    def file(self, name: str, content: bytes | str) -> None:
        path = self.home.parent / "inputs" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        self.paths[name] = str(path)

    def state(self) -> dict:
        """Everything a rejected input must leave untouched."""
        w3, book, registry = self.chain.w3, self.chain.book, self.chain.registry
        count = book.order_count()
        return {
            "eth": [w3.eth.get_balance(a) for a in (book.address, registry.address)],
            "tokens": [self.token.functions.balanceOf(a).call() for a in (book.address, registry.address)],
            "order hashes": [book.order_hash(i).hex() for i in range(1, count + 1)],
            "nonces": {role: w3.eth.get_transaction_count(self.accounts[role].address) for role in ROLES},
            "files": {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
                      for root in (self.home, self.node) for p in sorted(root.rglob("*")) if p.is_file()},
        }

    def fabmesh(self, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
        """`fabmesh ARGS` as a child process, with the world's settings and `env` (none of this process's)."""
        clean = {k: v for k, v in os.environ.items() if not _is_setting(k)}
        return subprocess.run([sys.executable, "-m", "pynode.cli", *args], capture_output=True, text=True,
                              timeout=120, cwd=self.home.parent, env={**clean, **self.env, **env})


def _is_setting(name: str) -> bool:
    return name.startswith("FABMESH_") or name == "ETH_RPC_URL"


def _wallet(directory: Path, accounts: dict, roles: tuple[str, ...]) -> None:
    for role in roles:
        Keystore(directory / "keystores", SCRYPT_N).create(role, PASSWORD, private_key=bytes(accounts[role].key))
        HpkeKeyStore(directory / "hpke", SCRYPT_N).create(role, PASSWORD, pq=False)


def _orders(world: World, kubo_api: str, tmp: Path) -> None:
    """An ETH order, a token order, two awards whose envelope CIDs name no envelope, a shipment with a huge report."""
    chain, send = world.chain, world.chain.send
    tmp.mkdir()
    market = Market(chain, IpfsClient(kubo_api, timeout=30), world.accounts, tmp)
    market.post()
    design = tmp / "token-part.step"
    design.write_bytes(b"ISO-10303-21; paid in tokens\n")
    now = chain.w3.eth.get_block("latest")["timestamp"]
    market.buyer_api.post(OrderRequest(
        design=design, process="CNC_MILLING", material="AL_6061", quantity=1, price=10**18, token=world.token.address,
        claim_deadline=now + 86400, delivery_deadline=now + 7 * 86400, inspection_window=86400, claim_bond=0,
        region="u33d"), market.buyer_keys.public_key)

    huge = b'{"padding":"' + b"x" * (2 << 20) + b'"}'
    huge_digest = cid_to_digest(market.ipfs.add_bytes(huge))
    for name, envelope in (("award_spec_as_envelope", None), ("award_huge_envelope", huge_digest)):
        order_id = market.post()
        send(market.maker, chain.book.claim(market.tracker(order_id)))
        tracker = market.tracker(order_id)
        send(market.buyer, chain.book.award(tracker, envelope or bytes(tracker.docs.spec_cid)))  # its spec
        world.paths[name] = str(order_id)
    order_id = market.post()
    market.claim_award(order_id)
    market.attest(order_id)
    market.ship(order_id, Report(huge, "", huge_digest, hashlib.sha256(huge).digest()))
    world.paths["shipped_huge_report"] = str(order_id)
    world.file("report.json", market.report(order_id).data)


def _inputs(world: World, deployments: Path) -> None:
    """Every malformed file a case hands the CLI."""
    file, home = world.file, world.home
    file("design.gcode", "G1 X10 Y10\n")
    deployment = (deployments / f"{world.chain.chain_id}.json").read_bytes()
    file("deploy-truncated.json", deployment[: len(deployment) // 2])
    file("deploy-chain-999.json", json.dumps({**json.loads(deployment), "chainId": 999}))
    without_book = json.loads(deployment)
    del without_book["contracts"]["OrderBook"]
    file("deploy-no-orderbook.json", json.dumps(without_book))
    file("deploy-latin1.json", deployment.replace(b'"chainId"', b'"chain\xe9Id"'))
    file("deploy-nested.json", "[" * 100_000 + "]" * 100_000)
    (home.parent / "inputs" / "empty-deployments").mkdir()
    world.paths["empty_deployments"] = str(home.parent / "inputs" / "empty-deployments")

    keystore = (home / "keystores" / "buyer.json").read_bytes()
    file("ks-truncated.json", keystore[:-20])
    file("ks-binary.json", b"\x89PNG\r\n\x1a\n\x00\x00")
    for name, edit in (("ks-no-kdfparams.json", lambda c: c.pop("kdfparams")),
                       ("ks-edited-iv.json", lambda c: c["cipherparams"].update(iv="00" * 16)),
                       ("ks-costly.json", lambda c: c["kdfparams"].update(n=1 << 20, r=64))):
        edited = json.loads(keystore)
        edit(edited["crypto"])
        file(name, json.dumps(edited))
    world.paths["ks_hpke"] = str(next((home / "hpke" / "buyer").glob("*.json")))
    file("wrong-password", "nope\n")
    file("empty-password", "\n")
    file("attestation-not-json", "inspector says: pass")


def _node(world: World, anvil_url: str, kubo_api: str, deployments: Path) -> None:
    """A node home for `maker` with a job in its store, one good node.toml and broken variants beside it."""
    root = world.node
    _wallet(root / "wallet", world.accounts, ("maker",))
    (root / "password.txt").write_text(PASSWORD + "\n")
    home = NodeHome(root, "maker", world.accounts["maker"], generate_keypair())
    good = write_config(home, rpc_urls=[anvil_url], ipfs_api=kubo_api, deployments=deployments,
                        processes=["CNC_MILLING"], materials=["AL_6061"]).read_text()
    store = Store(home.db_path)
    store.upsert_job(1, "claimed", {"order_id": 1, "price": 10**17}, block=5)
    store.close()
    variants = {"unknown-key": 'colour = "blue"\n', "wrong-type": 'start_block = "soon"\n',
                "bad-toml": "hpke_key = [\n", "settings-key": '_env_prefix = "X_"\n',
                "unknown-user": 'keystore = "~nosuch-fabmesh-user/k.json"\n'}
    for name, line in variants.items():
        (root / f"{name}.toml").write_text(line + good)
    (root / "latin1.toml").write_bytes(b'hpke_key = "caf\xe9"\n' + good.encode())
    world.paths["node_dir"] = str(root)


@pytest.fixture(scope="module")
def world(anvil, kubo, settings, dev_accounts, tmp_path_factory) -> World:
    snapshot = anvil.rpc("evm_snapshot")
    tmp = tmp_path_factory.mktemp("bad-input")
    chain = Chain.connect(settings)
    home = tmp / "home"
    _wallet(home, dev_accounts, ("buyer", "maker"))
    (tmp / "password").write_text(PASSWORD + "\n")
    env = {"FABMESH_HOME": str(home), "FABMESH_SCRYPT_N": str(SCRYPT_N), "FABMESH_RPC_URL": anvil.rpc_url,
           "FABMESH_IPFS_API": kubo.api_url, "FABMESH_DEPLOYMENTS": str(settings.deployments),
           "FABMESH_PASSWORD_FILE": str(tmp / "password"), "FABMESH_CONFIRMATIONS": "0", "FABMESH_PROTOCOL": "1"}
    token = deploy_test_token(chain, dev_accounts["admin"], dev_accounts["buyer"])  # 1,000 TST
    built = World(chain, env, home, tmp / "node", token, dev_accounts)
    built.paths.update(token=token.address, maker=dev_accounts["maker"].address, tmp=str(tmp))
    _orders(built, kubo.api_url, tmp / "market")
    anvil.rpc("evm_mine")  # the auditor reads blocks with one confirmation
    _inputs(built, settings.deployments)
    _node(built, anvil.rpc_url, kubo.api_url, settings.deployments)
    try:
        yield built
    finally:
        anvil.rpc("evm_revert", snapshot)


# ----------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    code: int  # 2: usage (click), 1: any other error
    message: str  # a fragment of the one stderr line
    env: tuple[tuple[str, str], ...] = ()


def post(*, account: tuple[str, ...] = ("--account", "buyer"), **changes: str) -> tuple[str, ...]:
    """`order post` of a valid FDM order, with options changed (claim_by= sets --claim-by)."""
    options = {"--design": "{design.gcode}", "--process": "FDM", "--material": "PLA", "--qty": "1",
               "--price": "0.01", "--claim-by": "+2d", "--deliver-by": "+5d"}
    options.update({"--" + key.replace("_", "-"): value for key, value in changes.items()})
    return (*account, "-y", "order", "post", *[item for pair in options.items() for item in pair])


def usage(message: str, **changes: str) -> Case:
    return Case(post(**changes), 2, message)


def with_env(message: str, args: tuple[str, ...] = post(), code: int = 1, **env: str) -> Case:
    return Case(args, code, message, tuple(env.items()))


def node_run(config: str) -> tuple[str, ...]:
    return ("node", "run", "--once", "--config", "{node_dir}/" + config)


CASES = {
    # amounts, durations, times, addresses, names: refused while parsing, exit 2
    "amount with two dots": usage("'1.2.3' is not an amount", price="1.2.3"),
    "negative amount": usage("'-1' is not an amount", price="-1"),
    "amount 1e999": usage("'1e999' is not an amount", price="1e999"),
    "amount below one wei": usage("more decimals than the smallest unit", price="0.0000000000000000001"),
    "amount above uint96": usage("larger than the contracts accept", price="80000000000"),
    "amount of 5000 digits": usage("larger than the contracts accept", price="1" * 5000),
    "amount in Arabic-Indic digits": usage("is not an amount", price="١٢"),
    "amount in bitcoin": usage("unknown unit 'btc'", price="1 btc"),
    "token amount with a unit": usage("token amounts take no unit", price="5eth", token="{token}"),
    "claim bond 'lots'": usage("'lots' is not an amount", claim_bond="lots"),
    "duration in parsecs": usage("'5 parsecs' is not a duration", inspection="5 parsecs"),
    "duration of 5000 digits": usage("is not a duration", inspection="1" * 5000 + "s"),
    "time as a superscript digit": usage("'²' is not a time", claim_by="²"),
    "time past uint40": usage("out of range", claim_by="99999999999999"),
    "time 'next tuesday'": usage("'next tuesday' is not a time", claim_by="next tuesday"),
    "delivery before the claim deadline": usage("must be after --claim-by", deliver_by="+1d"),
    "address with a wrong checksum": usage("wrong EIP-55 checksum", to="0x70997970C51812dc3A010C7d01b50e0d17dc79c8"),
    "address too short": usage("'0x1234' is not an address", to="0x1234"),
    "address too long": usage("is not an address", to="0x" + "ab" * 21),
    "token that is a name": usage("'fUSD' is not an address", token="fUSD"),
    "quantity zero": usage("--qty", qty="0"),
    "design file missing": usage("does not exist", design="{tmp}/missing.stl"),
    "design is a directory": usage("is a directory", design="{tmp}"),
    "tolerance without its limits": usage("expected NAME=NOMINAL±TOL+UNIT", tolerance="hole=6mm"),
    "tolerance of 400 digits": usage("numbers too large", tolerance="hole=" + "9" * 400 + "±0.1mm"),
    "bond of a registration": Case(("--account", "buyer", "-y", "partner", "register", "--processes", "FDM",
                                    "--materials", "PLA", "--region", "u33d", "--bond", "1.2.3"), 2, "not an amount"),
    "certification expiry": Case(("--account", "certifier", "-y", "partner", "certify", "{maker}", "--cert",
                                  "ISO_9001", "--expires", "someday"), 2, "'someday' is not a time"),
    "withdraw token address": Case(("--account", "maker", "-y", "withdraw", "--token", "0x12"), 2,
                                   "'0x12' is not an address"),
    # deployments file
    "deployments truncated": with_env("invalid JSON at line", FABMESH_DEPLOYMENTS="{deploy-truncated.json}"),
    "deployments for chain 999": with_env("is for chain 999, the RPC endpoint is chain 31337",
                                          FABMESH_DEPLOYMENTS="{deploy-chain-999.json}"),
    "deployments without the order book": with_env("contracts.OrderBook.address is missing",
                                                   FABMESH_DEPLOYMENTS="{deploy-no-orderbook.json}"),
    "deployments not UTF-8": with_env("not UTF-8", FABMESH_DEPLOYMENTS="{deploy-latin1.json}"),
    "deployments nested 100000 deep": with_env("nested too deeply", FABMESH_DEPLOYMENTS="{deploy-nested.json}"),
    "deployments dir without this chain": with_env("cannot read deployment",
                                                   FABMESH_DEPLOYMENTS="{empty_deployments}"),
    # keystores and passwords
    "keystore truncated": Case(post(account=("--account", "buyer", "--keystore", "{ks-truncated.json}")), 1,
                               "invalid JSON at line"),
    "keystore of binary garbage": Case(post(account=("--account", "buyer", "--keystore", "{ks-binary.json}")), 1,
                                       "not UTF-8"),
    "keystore without kdfparams": Case(post(account=("--account", "buyer", "--keystore", "{ks-no-kdfparams.json}")),
                                       1, "is not a usable v3 keystore"),
    "keystore with an edited IV": Case(post(account=("--account", "buyer", "--keystore", "{ks-edited-iv.json}")), 1,
                                       "the file was modified"),
    "keystore costing minutes": Case(post(account=("--account", "buyer", "--keystore", "{ks-costly.json}")), 1,
                                     "cost more than this node allows"),
    "HPKE keyfile as a keystore": Case(post(account=("--account", "buyer", "--keystore", "{ks_hpke}")), 1,
                                       "not an Ethereum keystore"),
    "wrong password": with_env("wrong password for keystore", FABMESH_PASSWORD_FILE="{wrong-password}"),
    "empty password": with_env("empty password", FABMESH_PASSWORD_FILE="{empty-password}"),
    "password file missing": with_env("cannot read password file", FABMESH_PASSWORD_FILE="{tmp}/no-such-password"),
    "unknown account": Case(post(account=("--account", "ghost")), 1, "account 'ghost' has no HPKE key"),
    "account name with a slash": Case(post(account=("--account", "../buyer")), 1, "invalid account name"),
    "import a truncated keystore": Case(("wallet", "import", "copy", "{ks-truncated.json}"), 1, "invalid JSON"),
    "import an HPKE keyfile": Case(("wallet", "import", "copy", "{ks_hpke}"), 1, "not an Ethereum keystore"),
    # node.toml, with a job in the node's store
    "node config with an unknown key": Case(node_run("unknown-key.toml"), 1, "colour: Extra inputs are not permitted"),
    "node config value of the wrong type": Case(node_run("wrong-type.toml"), 1, "start_block: Input should be"),
    "node config not TOML": Case(node_run("bad-toml.toml"), 1, "invalid TOML"),
    "node config setting pydantic's _env_prefix": Case(node_run("settings-key.toml"), 1,
                                                       "_env_prefix: Extra inputs are not permitted"),
    "node config path of an unknown user": Case(node_run("unknown-user.toml"), 1, "keystore: cannot expand"),
    "node config not UTF-8": Case(node_run("latin1.toml"), 1, "not UTF-8"),
    "node config missing": Case(node_run("missing.toml"), 1, "config file not found"),
    "node env list that is not JSON": with_env("lists and tables in FABMESH_* variables are JSON",
                                               node_run("node.toml"), FABMESH_RPC_URLS="http://a:1"),
    "node with a wrong password": with_env("cannot unlock the node's keys: wrong password", node_run("node.toml"),
                                           FABMESH_PASSWORD_FILE="{wrong-password}"),
    # documents named on chain or handed over as files
    "envelope CID naming a spec document": Case(
        ("--account", "maker", "order", "fetch-design", "{award_spec_as_envelope}", "--out", "{tmp}/design.out"), 1,
        "not a key envelope: type is 'fabmesh/order-spec'"),
    "envelope CID naming a 2 MiB document": Case(
        ("--account", "maker", "order", "fetch-design", "{award_huge_envelope}", "--out", "{tmp}/design.out"), 1,
        "larger than the 16384 bytes allowed"),
    "report CID naming a 2 MiB document": Case(
        ("--json", "audit", "order", "{shipped_huge_report}", "--ipfs-timeout", "20"), 1,
        "report not fetchable"),
    "signed attestation not JSON": Case(("--account", "maker", "-y", "relay-attestation", "{attestation-not-json}"),
                                        1, "signed attestation: invalid JSON"),
    "signed attestation that is a report": Case(("--account", "maker", "-y", "relay-attestation", "{report.json}"),
                                                1, "not a fabmesh"),
}


def _fill(text: str, paths: dict[str, str]) -> str:
    for name, value in paths.items():
        text = text.replace("{" + name + "}", value)
    return text


# The real program for a few cases: the exit code a shell sees, and no traceback on stderr, for a usage
# error, a parser's recursion, a keystore's cipher, the node's config and unlock, and an audit with --json.
IN_A_PROCESS = ("amount above uint96", "deployments nested 100000 deep", "keystore with an edited IV",
                "node config not TOML", "node with a wrong password", "report CID naming a 2 MiB document")


@pytest.fixture
def fabmesh(world: World, fabmesh_main, monkeypatch: pytest.MonkeyPatch):
    """`fabmesh ARGS` in-process, with the settings and working folder World.fabmesh gives the child process."""

    def invoke(args: list[str], env: dict[str, str]):
        for name in [name for name in os.environ if _is_setting(name)]:
            monkeypatch.delenv(name)
        for name, value in {**world.env, **env}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(world.home.parent)
        return fabmesh_main(*args)

    return invoke


def _refused(case: Case, code: int, stdout: str, stderr: str) -> None:
    lines = stderr.splitlines()
    assert (code, len(lines)) == (case.code, 1), stderr[-3000:]
    assert case.message in lines[0] and "Traceback" not in stderr, lines[0]
    assert lines[0].startswith(("error: ", "✗ ")), lines[0]
    if "--json" in case.args and stdout:  # only data on stdout: nothing, or one JSON document (an audit's verdict)
        json.loads(stdout)


def _run(world: World, case: Case, runner):
    return runner([_fill(a, world.paths) for a in case.args], {k: _fill(v, world.paths) for k, v in case.env})


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_input_is_refused_in_one_line_and_changes_nothing(world: World, fabmesh, name: str) -> None:
    case = CASES[name]
    before = world.state()
    result = _run(world, case, fabmesh)
    _refused(case, result.exit_code, result.stdout, result.stderr)
    assert world.state() == before


@pytest.mark.parametrize("name", IN_A_PROCESS)
def test_the_program_exits_with_the_code_and_no_traceback(world: World, name: str) -> None:
    case = CASES[name]
    before = world.state()
    result = _run(world, case, world.fabmesh)
    _refused(case, result.returncode, result.stdout, result.stderr)
    assert world.state() == before


def test_the_state_check_sees_a_valid_post(world: World, fabmesh) -> None:
    """The control: the same command with valid input escrows, and the comparison above would notice."""
    before = world.state()
    result = fabmesh([_fill(a, world.paths) for a in post()], {})
    assert result.exit_code == 0, result.stderr
    after = world.state()
    assert len(after["order hashes"]) == len(before["order hashes"]) + 1
    assert after["eth"][0] == before["eth"][0] + 10**16 and after["files"] != before["files"]  # escrow, design key
    assert after["nonces"]["buyer"] == before["nonces"]["buyer"] + 1
