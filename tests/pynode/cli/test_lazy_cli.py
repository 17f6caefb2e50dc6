"""The import budget of the `fabmesh` entry point: --version and --help load no command and none of the heavy
libraries, and the help lines the entry point lists are the commands' own.

What a fresh interpreter imports is read from its sys.modules (a subprocess each, no sockets); how long that
takes is a benchmark's business (bench/cli_bench.py), not a test's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pynode.cli.main import COMMANDS, cli

#: the libraries a command imports only when it needs them
HEAVY = ("web3", "eth_account", "eth_abi", "eth_utils", "cryptography", "pydantic", "pydantic_settings", "rich",
         "requests", "ipfshttpclient", "aiohttp", "importlib.metadata")


#: what signs, sends, seals and decrypts, and what measures a design (only `order post` does): no read command
#: imports these (the read budget of bench/cli_bench.py)
WRITE_ONLY = ("web3", "eth_account", "cryptography", "aiohttp", "websockets", "ipfshttpclient", "numpy", "trimesh",
              "ezdxf")

#: what a chain read's start-up went without (bench/cli_bench.py): requests and its charset detection (RpcClient is
#: on urllib3), pycryptodome's cffi binding and its C parser (keccak is safe-pysha3's), rich under --json
READ_FREE = ("requests", "charset_normalizer", "Crypto", "cffi", "pycparser", "rich")

#: what a read of words goes without: eth_abi and eth_utils (whose package init loads pydantic; core/address.py
#: and core/abi_types.py read addresses, views, logs and hashes), pydantic and pydantic-settings (plain inputs
#: are read by core/plain_settings.py), py-cid and its tables (a recorded CID's text is written by ipfs/cid.py)
WORD_READ_FREE = ("eth_abi", "eth_utils", "eth_typing", "parsimonious", "pydantic", "pydantic_core",
                  "pydantic_settings", "dotenv", "cid", "multihash", "multicodec", "multibase")


def imported_by(code: str, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """The modules a fresh interpreter holds after ``code`` (even one that exits), and what it printed."""
    probe = ("import atexit, json, sys\n"
             "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n" + code)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False,
                          env=env)
    return set(json.loads(done.stderr.strip().splitlines()[-1])), done.stdout


def heavy(modules: set[str]) -> list[str]:
    return sorted(name for name in HEAVY if name in modules)


def test_the_entry_module_imports_no_heavy_library_and_no_command() -> None:
    modules, _ = imported_by("import pynode.cli.main")
    assert heavy(modules) == []
    commands = {target.partition(":")[0] for target, _ in COMMANDS.values()}
    assert sorted(commands & modules) == []


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_stays_in_the_budget(flag: str) -> None:
    modules, out = imported_by(f"from pynode.cli.main import main\nmain([{flag!r}])")
    assert heavy(modules) == []
    assert "Commands:\n  " in out and "\n  attest " in out


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_stays_in_the_budget(flag: str) -> None:
    modules, out = imported_by(f"from pynode.cli.main import main\nmain([{flag!r}])")
    assert heavy(modules - {"importlib.metadata"}) == []  # the version is the installed package's metadata
    assert out.startswith("fabmesh, version ")


@pytest.mark.parametrize(("argv", "printed"), [
    (["--json", "wallet", "list"], "[]\n"),  # reads keystore files: what signs and decrypts stays out
    (["dev", "status"], "no local network\n"),  # reads the network's state file: anvil, Kubo and deploys stay out
])
def test_local_read_commands_need_no_chain_library(tmp_path, argv: list[str], printed: str) -> None:
    home = str(tmp_path / "home")
    modules, out = imported_by(f"import os\nos.environ['FABMESH_HOME'] = {home!r}\n"
                               f"from pynode.cli.main import main\nmain({argv!r})")
    assert out == printed
    assert [name for name in (*WRITE_ONLY, *READ_FREE, *WORD_READ_FREE) if name in modules] == []


@pytest.mark.integration
def test_chain_read_commands_import_nothing_that_signs_or_seals(tmp_path, anvil, kubo, deployments_dir, chain,
                                                               dev_accounts) -> None:
    """partner list, order list and check read the chain over plain JSON-RPC (pynode/chain/jsonrpc.py): web3,
    eth_account and the ciphers stay unloaded, and so do requests, pycryptodome and rich (check asks Kubo's version
    over the standard library's HTTP client, without ipfshttpclient), eth_abi, eth_utils and pydantic (their words
    and settings are read without them), in --json and human output alike (rich for the tables only)."""
    from support import post_order

    order_id, _ = post_order(chain, dev_accounts["buyer"])
    env = {**os.environ, "FABMESH_HOME": str(tmp_path / "home"), "FABMESH_PROTOCOL": "1",
           "FABMESH_RPC_URL": anvil.rpc_url, "FABMESH_DEPLOYMENTS": str(deployments_dir), "FABMESH_CONFIRMATIONS": "0",
           "FABMESH_IPFS_API": kubo.api_url}
    for argv, allowed in ((["--json", "order", "list"], ()), (["--json", "partner", "list"], ()),
                          (["--json", "check"], ()),
                          (["order", "list"], ("rich",)), (["partner", "list"], ("rich",))):
        modules, out = imported_by(f"from pynode.cli.main import main\nmain({argv!r})", env)
        assert [name for name in (*WRITE_ONLY, *READ_FREE, *WORD_READ_FREE)
                if name in modules and name not in allowed] == [], argv
        assert out.startswith(("[", "{")) if "--json" in argv else out.strip(), argv
    modules, out = imported_by("from pynode.cli.main import main\nmain(['--json', 'order', 'list'])", env)
    assert [row["order_id"] for row in json.loads(out)] == [order_id]


@pytest.mark.integration
def test_the_v2_audit_reads_its_documents_without_pydantic(tmp_path, anvil, kubo, v2_deployments_dir,
                                                          dev_accounts) -> None:
    """`--protocol 2 audit all` on a finished order (spec, design, envelope and a real quality report on Kubo)
    validates the spec and the report with the plain readers (documents/spec_rules.py, report_rules.py) and the key
    envelope with its sizes from crypto/formats.py: pydantic and cryptography stay unloaded, as all that only writes."""
    from v2_parties import cli_buyer_v2, ship, v2_chain, vetted_shop

    chain = v2_chain(anvil, kubo, v2_deployments_dir, tmp_path / "setup-home")
    shop = vetted_shop(chain, anvil, dev_accounts["certifier"])
    party = cli_buyer_v2(chain, anvil, kubo.api_url, tmp_path)
    first_block = chain.head_block()["number"] + 1  # this test's order alone: the deployment is the session's
    posted = party.buyer.post(party.prepare("lazy-audit"))
    tracker = chain.book.load_order(posted.order_id, chain.from_block)
    party.buyer.award(tracker, shop.quote(chain, posted.order.terms, 5 * 10**16), party.keypair)
    party.buyer.confirm(ship(chain, party, shop, chain.book.load_order(posted.order_id, chain.from_block)))
    env = {**os.environ, "FABMESH_HOME": str(tmp_path / "home"), "FABMESH_RPC_URL": anvil.rpc_url,
           "FABMESH_DEPLOYMENTS": str(v2_deployments_dir), "FABMESH_CONFIRMATIONS": "0",
           "FABMESH_IPFS_API": kubo.api_url}
    argv = ["--protocol", "2", "--json", "audit", "all", "--from-block", str(first_block)]
    modules, out = imported_by(f"from pynode.cli.main import main\nmain({argv!r})", env)
    result = json.loads(out)
    checks = {check["name"]: check["ok"] for order in result["orders"] for check in order["checks"]}
    assert result["ok"] and checks["evidence.spec"] and checks["evidence.quality_report"], out
    assert [name for name in (*WRITE_ONLY, *READ_FREE, *WORD_READ_FREE) if name in modules] == []


def test_wallet_address_reads_the_stored_address_only(tmp_path, password_file) -> None:
    env = {**os.environ, "FABMESH_HOME": str(tmp_path / "home"), "FABMESH_SCRYPT_N": "1024"}
    created = subprocess.run([sys.executable, "-m", "pynode.cli", "--json", "--password-file", str(password_file),
                              "wallet", "new", "alice"], capture_output=True, text=True, timeout=60, check=True,
                             env=env)
    modules, out = imported_by("from pynode.cli.main import main\nmain(['wallet', 'address', 'alice'])", env)
    assert out.strip() == json.loads(created.stdout)["address"]
    unlocking = ("web3", "eth_account", "requests", *WORD_READ_FREE)  # the stored address: no key is decrypted
    assert [name for name in unlocking if name in modules] == []  # (the HPKE suite it names is cryptography's)


def test_the_listed_help_is_each_commands_own() -> None:
    for name in COMMANDS:
        command = cli.get_command(None, name)  # type: ignore[arg-type]  # the lazy group needs no context
        assert command is not None and command.name == name
        assert COMMANDS[name][1] == command.get_short_help_str(limit=10**6), name


def test_an_unknown_command_is_a_usage_error(fabmesh_main) -> None:
    result = fabmesh_main("frobnicate")
    assert result.exit_code == 2
    assert result.stderr == "error: No such command 'frobnicate'. (see 'fabmesh -h')\n"
