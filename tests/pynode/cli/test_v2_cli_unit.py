"""Protocol selection and the v2 commands' parsing, without sockets."""

from __future__ import annotations

import click
import pytest

from pynode.chain.deployment import ContractInfo, load_abi
from pynode.chain.jsonrpc import RpcClient
from pynode.chain.v2.book import OrderBookV2
from pynode.chain.v2.manager import AccessManager
from pynode.chain.v2.registry import PartnerRegistryV2
from pynode.cli.main import COMMANDS, V2_COMMANDS, cli
from pynode.cli.v2.governance import functions_of, parse_arg, restricted
from pynode.cli.v2.views import ORDER_ID, readable
from pynode.core.plain_settings import plain_settings
from pynode.core.settings import Settings
from pynode.core.units import ETH

ADDRESS = "0x" + "ab" * 20


@pytest.mark.parametrize(("environ", "flags", "expected"), [
    ({}, {}, 2), ({"FABMESH_PROTOCOL": "1"}, {}, 1), ({"fabmesh_protocol": "1"}, {"protocol": 2}, 2),
    ({"FABMESH_PROTOCOL": "2"}, {"protocol": 1}, 1), ({}, {"protocol": 1}, 1),
])
def test_protocol_is_a_shared_setting(monkeypatch, environ, flags, expected) -> None:
    plain = plain_settings(flags, environ)
    assert plain is not None and plain.protocol == expected
    for key in ("FABMESH_PROTOCOL", "fabmesh_protocol"):
        monkeypatch.delenv(key, raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    assert Settings(**flags).protocol == expected


@pytest.mark.parametrize("value", ["3", "0", "two"])
def test_a_protocol_out_of_range_is_left_to_settings_which_refuses_it(monkeypatch, value) -> None:
    assert plain_settings({}, {"FABMESH_PROTOCOL": value}) is None
    assert plain_settings({"protocol": 3}, {}) is None
    monkeypatch.setenv("FABMESH_PROTOCOL", value)
    with pytest.raises(ValueError, match="protocol"):
        Settings()


@pytest.mark.parametrize(("environ", "argv", "module"), [
    ({}, ["order"], "pynode.cli.v2.order"), ({}, ["--protocol", "2", "order"], "pynode.cli.v2.order"),
    ({}, ["--protocol", "1", "order"], "pynode.cli.order"), ({"FABMESH_PROTOCOL": "1"}, ["order"], "pynode.cli.order"),
    ({"FABMESH_PROTOCOL": "1"}, ["--protocol", "2", "order"], "pynode.cli.v2.order"),
    ({}, ["--protocol", "1", "governance"], "pynode.cli.v2.governance"),
])
def test_a_shared_command_is_v2s_unless_protocol_1_is_asked_for(monkeypatch, environ, argv, module) -> None:
    monkeypatch.delenv("FABMESH_PROTOCOL", raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    ctx = cli.make_context("fabmesh", [*argv, "--help"], resilient_parsing=True)
    command = cli.get_command(ctx, argv[-1])
    assert command is not None and command.callback is not None
    assert command.callback.__module__.startswith(module), argv
    assert set(V2_COMMANDS) <= set(COMMANDS)


@pytest.mark.parametrize("config_type", ["NodeConfig", "WatchConfig"])
def test_node_toml_and_watch_toml_name_the_protocol_else_the_command_does(monkeypatch, tmp_path, config_type) -> None:
    from pynode.cli.context import CliContext
    from pynode.cli.node import _protocol
    from pynode.daemon import config

    monkeypatch.delenv("FABMESH_PROTOCOL", raising=False)
    load = getattr(config, config_type).load
    (tmp_path / "none.toml").write_text("")
    (tmp_path / "two.toml").write_text("protocol = 2\n")
    v1, default = CliContext(Settings(protocol=1)), CliContext(Settings())
    assert _protocol(v1, load(tmp_path / "none.toml")) == 1  # `fabmesh --protocol 1 node ...`: the file names none
    assert _protocol(default, load(tmp_path / "none.toml")) == 2
    assert _protocol(v1, load(tmp_path / "two.toml")) == 2  # the file's own word wins
    assert _protocol(v1, None) == 1  # watch-orders without a file
    monkeypatch.setenv("FABMESH_PROTOCOL", "1")
    assert _protocol(default, load(tmp_path / "two.toml")) == 1  # as everywhere, the environment over the file


def test_a_bad_protocol_flag_is_a_usage_error(fabmesh_main) -> None:
    result = fabmesh_main("--protocol", "3", "order", "list")
    assert result.exit_code == 2 and "--protocol" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize(("text", "expected"), [("42", 42), ("0x2a", 42), (str(2**192 - 1), 2**192 - 1)])
def test_order_ids_in_decimal_or_hex(text, expected) -> None:
    assert ORDER_ID.convert(text, None, None) == expected


@pytest.mark.parametrize("text", ["0", "-1", "12x", str(2**192), "0xzz", "", "١٢"])
def test_bad_order_ids(text) -> None:
    with pytest.raises(click.BadParameter, match="not an order id"):
        ORDER_ID.convert(text, None, None)


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("uint16", "100", 100), ("uint32", "2d", 2 * 86400), ("bool", "true", True), ("bool", "0", False),
    ("bytes32", "0x" + "11" * 32, b"\x11" * 32), ("bytes4[]", "0x01020304,0x05060708", [b"\1\2\3\4", b"\5\6\7\x08"]),
    ("address", ADDRESS, "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"), ("string", "x", "x"),
])
def test_governance_arguments_by_abi_type(kind, text, expected) -> None:
    assert parse_arg(kind, text) == expected


@pytest.mark.parametrize(("kind", "text"), [("uint16", "-3"), ("bool", "yes"), ("bytes32", "0x11"),
                                            ("address", "0x12"), ("bytes", "11"), ("tuple", "x")])
def test_bad_governance_arguments_are_usage_errors(kind, text) -> None:
    with pytest.raises(click.BadParameter):
        parse_arg(kind, text)


class _Chain:
    """The wrappers a restricted call is encoded with (packaged ABIs; nothing is called)."""

    def __init__(self) -> None:
        rpc = RpcClient("http://127.0.0.1:1")
        self.book = OrderBookV2(rpc, ContractInfo("OrderBookV2", ADDRESS, load_abi(None, "OrderBookV2")))
        self.registry = PartnerRegistryV2(rpc, ContractInfo("PartnerRegistryV2", ADDRESS,
                                                            load_abi(None, "PartnerRegistryV2")))
        self.manager = AccessManager(rpc, ContractInfo("AccessManager", ADDRESS, load_abi(None, "AccessManager")))


def test_a_restricted_call_is_the_wrappers_own_calldata() -> None:
    chain = _Chain()
    call = restricted(chain, "book", "setFee", ("100", ADDRESS))  # type: ignore[arg-type]  # the wrappers only
    assert call.data == chain.book.set_fee(100, parse_arg("address", ADDRESS)).data
    assert "setFee" in functions_of("book") and "grantRole" in functions_of("manager")
    with pytest.raises(click.BadParameter, match="no restricted function 'withdraw'"):
        restricted(chain, "book", "withdraw", ())  # type: ignore[arg-type]  # as above
    with pytest.raises(click.BadParameter, match="takes 2 arguments"):
        restricted(chain, "book", "setFee", ("100",))  # type: ignore[arg-type]  # as above


def test_readable_order_fields() -> None:
    assert readable("price", 4 * 10**16, ETH) == "0.04 ETH" and readable("bond", 10**16, ETH) == "0.01 ETH"
    assert readable("due_by", 0, ETH) == "1970-01-01T00:00:00Z" and readable("due_by", None, ETH) == "-"
    assert readable("reject_window", 2 * 86400, ETH) == "2 days" and readable("fee_bps", 150, ETH) == "1.5% (150 bps)"


def _draft():
    from pynode.documents.order_draft import OrderDraft
    from pynode.protocol.v2 import codec
    from pynode.protocol.v2.types import OrderDocs, OrderSpec, OrderTerms

    docs = OrderDocs(b"\1" * 32, b"\2" * 32, b"\3" * 32, b"u33d\0\0\0\0")
    spec = OrderSpec(1, 2, 3, (parse_arg("address", ADDRESS),), codec.docs_hash(docs))
    terms = OrderTerms(parse_arg("address", ADDRESS), "0x" + "00" * 20, 10**17, 10**16, parse_arg("address", ADDRESS),
                       2**39, 2**39 + 1, 3600, 7200, 86400 * 30, 25, codec.spec_hash(spec))
    return OrderDraft(31337, parse_arg("address", ADDRESS), terms, spec, docs,
                      {"cid": "bafyabc", "plaintext_sha256": b"\2" * 32, "plaintext_size": 10, "ciphertext_size": 40},
                      "bafyspec", "QmBackup")


def test_an_order_draft_reads_back_as_written() -> None:
    from pynode.documents.order_draft import parse_order_draft

    draft = _draft()
    assert parse_order_draft(draft.to_json()) == draft
    assert parse_order_draft(draft.to_json()).order_id == draft.order_id


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["spec"].update(processes="4"), "do not hash to each other"),
    (lambda d: d["docs"].update(specCid="0x" + "44" * 32), "do not hash to each other"),
    (lambda d: d["docs"].update(region="0x00"), "docs.region must be 0x-hex of 8 bytes"),
    (lambda d: d["terms"].update(feeBps=str(1 << 16)), "does not fit uint16"),
    (lambda d: d["spec"].update(inspectors=["0x12"]), "is not an address"),
    (lambda d: d.update(extra=1), "unexpected field"),
    (lambda d: d["design"].pop("cid"), "missing field 'cid'"),
    (lambda d: d.update(chain_id="31337"), "chain_id"),
    (lambda d: d.update(spec_cid="../x"), "spec_cid is not a CID"),
])
def test_a_tampered_or_malformed_draft_is_refused_in_one_line(change, message) -> None:
    import json

    from pynode.core.errors import InputError
    from pynode.documents.order_draft import parse_order_draft

    document = json.loads(_draft().to_json())
    change(document)
    with pytest.raises(InputError, match=message):
        parse_order_draft(json.dumps(document))


@pytest.mark.parametrize("argv", [["order", "--help"], ["--protocol", "2", "order", "--help"],
                                  ["--protocol", "2", "partner", "--help"],
                                  ["quote", "--help"], ["arbitration", "--help"], ["governance", "--help"],
                                  ["--protocol", "2", "attest", "--help"], ["--protocol", "2", "withdraw", "--help"]])
def test_v2_help_loads_nothing_that_signs_or_talks(argv) -> None:
    import json
    import subprocess
    import sys

    probe = ("import atexit, json, sys\n"
             "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
             f"from pynode.cli.main import main\nmain({argv!r})")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    modules = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert "Usage: fabmesh" in done.stdout
    assert [m for m in ("web3", "eth_account", "cryptography", "rich", "requests", "ipfshttpclient", "numpy")
            if m in modules] == []
