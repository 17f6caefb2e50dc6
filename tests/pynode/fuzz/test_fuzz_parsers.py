"""Every parser of outside data, fuzzed: it returns a valid value or raises its typed one-line input error.

Inputs are arbitrary bytes or text, valid documents with bytes edited, valid documents
with one JSON (or TOML) value replaced, removed or added, and valid documents of another
kind. Any other exception (KeyError, TypeError, ValueError, UnicodeDecodeError,
RecursionError…) escaping a parser fails the property: callers only catch the typed ones.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from eth_account import Account
from eth_utils import is_address, to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pynode.chain.deployment import Deployment, parse_deployment
from pynode.cli.order import _tolerance
from pynode.cli.parsing import (
    MAX_UINT40,
    MAX_UINT96,
    parse_address,
    parse_amount,
    parse_duration,
    parse_names,
    parse_time,
)
from pynode.core.errors import InputError
from pynode.core.strict_json import strict_json_loads
from pynode.crypto import hpke
from pynode.crypto.envelope import KeyEnvelope, OrderContext, build_envelope, parse_envelope
from pynode.crypto.errors import EnvelopeError, KeyfileError
from pynode.crypto.keyfile import decrypt_keyfile, encrypt_keyfile
from pynode.daemon.adapters import ProductionResult
from pynode.daemon.config import NodeConfig
from pynode.documents.quality_report import build_report, canonical_json, parse_report
from pynode.documents.report_rules import read_report
from pynode.documents.spec import ProductionSpec, build_spec_document, read_spec_document
from pynode.documents.spec_rules import read_spec
from pynode.ipfs.cid import cid_to_digest, digest_to_cid
from pynode.wallet.keystore import unlock_keyfile

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXAMPLE_TOML = Path(__file__).resolve().parents[3] / "pynode" / "daemon" / "node.example.toml"
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
PARTNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
PASSWORD = "correct horse"
CID = digest_to_cid(hashlib.sha256(b"design").digest())

# ----------------------------------------------------------------- valid documents of every kind

KEYPAIR = hpke.generate_keypair()
CONTEXT = OrderContext(31337, CONTRACT, 7, PARTNER, hashlib.sha256(b"design").digest())
ENVELOPE = build_envelope(bytes(range(32)), KEYPAIR.public_key, CONTEXT)
SPEC = build_spec_document(process="CNC_MILLING", material="AL_6061", quantity=3,
                           tolerances={"hole_d": {"nominal": 6.0, "plus": 0.05, "minus": 0.05, "unit": "mm"}},
                           certifications=["ISO_9001"], region="u33d", design_name="bracket.stl", design_size=6,
                           design_sha256=hashlib.sha256(b"design").digest(), design_cid=CID, notes="anodize")
REPORT = canonical_json(build_report(
    ProductionResult(passed=True, measurements={"hole_d": 6.01, "weight_g": 80}), json.loads(SPEC), order_id=7,
    chain_id=31337, contract=CONTRACT, partner=PARTNER, started_at=1_700_000_000, finished_at=1_700_000_100,
    created_at=1_700_000_200))
DEPLOYMENT = json.dumps({"chainId": 31337, "deployBlock": 1, "tokens": [],
                         "contracts": {"PartnerRegistry": {"address": PARTNER, "artifact": "PartnerRegistry.json"},
                                       "OrderBook": {"address": CONTRACT, "artifact": "OrderBook.json"}}}).encode()
KEYSTORE = json.dumps(Account.encrypt(b"\x42" * 32, PASSWORD, kdf="scrypt", iterations=16)).encode()
HPKE_KEYFILE = json.dumps(encrypt_keyfile(KEYPAIR, PASSWORD, scrypt_n=16)).encode()
DOCUMENTS = {"envelope": ENVELOPE, "spec": SPEC, "report": REPORT, "deployment": DEPLOYMENT, "keystore": KEYSTORE,
             "hpke keyfile": HPKE_KEYFILE}

# ----------------------------------------------------------------- strategies

SMALL_INTS = st.integers(min_value=-5000, max_value=5000)  # keyfiles: no KDF cost that takes minutes
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(st.text(max_size=12), kids, max_size=4), max_leaves=12)
CHEAP_JSON_VALUES = st.recursive(st.none() | st.booleans() | SMALL_INTS | st.text(max_size=30),
                                 lambda kids: st.lists(kids, max_size=4)
                                 | st.dictionaries(st.text(max_size=12), kids, max_size=4), max_leaves=8)
OUTSIDE_BYTES = st.binary(max_size=3000) | st.text(max_size=1000).map(lambda t: t.encode("utf-8", "surrogatepass"))


def _containers(document: Any, path: tuple = ()) -> list[tuple]:
    """Paths to every dict and list inside ``document``."""
    found = [path] if isinstance(document, dict | list) else []
    children = document.items() if isinstance(document, dict) else enumerate(document) \
        if isinstance(document, list) else ()
    for key, value in children:
        found += _containers(value, (*path, key))
    return found


@st.composite
def edited_json(draw: st.DrawFn, valid: bytes, values: st.SearchStrategy = JSON_VALUES) -> bytes:
    """``valid`` with one value somewhere replaced, removed or added, serialized canonically or not."""
    document = copy.deepcopy(json.loads(valid))
    holder = document
    for key in draw(st.sampled_from(_containers(document))):
        holder = holder[key]
    keys = list(holder.keys()) if isinstance(holder, dict) else list(range(len(holder)))
    action = draw(st.sampled_from(["replace", "delete", "add"] if keys else ["add"]))
    if action == "add":
        if isinstance(holder, dict):
            holder[draw(st.text(max_size=12))] = draw(values)
        else:
            holder.append(draw(values))
    else:
        key = draw(st.sampled_from(keys))
        if action == "delete":
            del holder[key]
        else:
            holder[key] = draw(values)
    canonical = draw(st.booleans())
    return json.dumps(document, sort_keys=canonical, separators=(",", ":") if canonical else None).encode()


@st.composite
def edited_bytes(draw: st.DrawFn, valid: bytes) -> bytes:
    """``valid`` with up to 8 bytes somewhere replaced by up to 8 arbitrary bytes (truncation included)."""
    start = draw(st.integers(min_value=0, max_value=len(valid)))
    end = draw(st.integers(min_value=start, max_value=min(len(valid), start + 8)))
    return valid[:start] + draw(st.binary(max_size=8)) + valid[end:]


def outside(valid: bytes, values: st.SearchStrategy = JSON_VALUES) -> st.SearchStrategy[bytes]:
    """What may arrive where ``valid`` is expected: garbage, edits of it, other documents and edits of those."""
    others = [doc for doc in DOCUMENTS.values() if doc != valid]
    return (OUTSIDE_BYTES | edited_bytes(valid) | edited_json(valid, values) | st.sampled_from(others)
            | st.sampled_from(others).flatmap(lambda doc: edited_json(doc, values)))


def parsed_or_refused(parse: Callable[[Any], Any], data: Any, error: type[Exception] = InputError) -> Any:
    """The parser's value, or None when it raised ``error`` with a one-line message; anything else escapes."""
    try:
        return parse(data)
    except error as exc:
        message = exc.message if isinstance(exc, click.BadParameter) else str(exc)
        assert message and "\n" not in message, repr(message)
        return None


def verdict(parse: Callable[[bytes], Any], data: bytes) -> Any:
    """What ``parse`` gives, or the line it refuses with (the audit's plain readers against the models' readers)."""
    try:
        return parse(data)
    except InputError as exc:
        return f"refused: {exc}"


# ----------------------------------------------------------------- documents fetched from IPFS


@FUZZ
@given(data=outside(b'{"a":[1,2.5,"x",null,true]}'))
def test_strict_json_returns_json_or_the_given_error(data: bytes) -> None:
    class Refused(InputError):
        pass

    value = parsed_or_refused(lambda d: strict_json_loads(d, "doc", 2000, error=Refused), data, Refused)
    if value is not None:
        assert json.loads(json.dumps(value, allow_nan=False)) == value


@FUZZ
@given(data=outside(ENVELOPE))
def test_key_envelopes(data: bytes) -> None:
    envelope = parsed_or_refused(parse_envelope, data, EnvelopeError)
    if envelope is not None:
        assert isinstance(envelope, KeyEnvelope)  # schema-valid; opening it checks the order and key
        assert json.dumps(json.loads(data), sort_keys=True, separators=(",", ":")).encode() == data  # canonical


@FUZZ
@given(data=outside(REPORT))
def test_quality_reports(data: bytes) -> None:
    report = parsed_or_refused(parse_report, data)
    if report is not None:
        assert canonical_json(report) == data
    assert verdict(read_report, data) == verdict(lambda d: parse_report(d).dump(), data)


@FUZZ
@given(data=outside(SPEC))
def test_order_spec_documents(data: bytes) -> None:
    spec = parsed_or_refused(read_spec_document, data)
    if spec is not None:
        assert isinstance(spec, ProductionSpec) and spec.quantity >= 1
    assert verdict(read_spec, data) == verdict(lambda d: (read_spec_document(d), json.loads(d))[1], data)


@pytest.mark.parametrize("kind", [k for k in DOCUMENTS if k != "spec"])
def test_a_document_of_another_kind_is_not_a_spec_envelope_or_report(kind: str) -> None:
    document = DOCUMENTS[kind]
    with pytest.raises(InputError, match="order spec: not a fabmesh/order-spec document"):
        read_spec_document(document)
    if kind != "envelope":
        with pytest.raises(EnvelopeError):
            parse_envelope(document)
    if kind != "report":
        with pytest.raises(InputError, match=r"^report: "):
            parse_report(document)


@pytest.mark.parametrize(("parse", "limit"), [(read_spec_document, "262144"), (parse_report, "1048576"),
                                              (parse_envelope, "16384")], ids=["spec", "report", "envelope"])
def test_oversized_documents_are_refused_before_parsing(parse: Callable[[bytes], Any], limit: str) -> None:
    with pytest.raises(InputError, match=f"larger than the {limit}-byte limit"):
        parse(b"[" + b"1," * (int(limit) // 2) + b"1]")


@FUZZ
@given(text=st.text(max_size=80) | st.sampled_from(["Qm", "b", "bafy", "z"]).flatmap(
    lambda prefix: st.text(alphabet="abcdefghijklmnopqrstuvwxyz234567QmXY1=", max_size=70).map(prefix.__add__)))
def test_cids(text: str) -> None:
    digest = parsed_or_refused(cid_to_digest, text)
    if digest is not None:
        assert len(digest) == 32


# ----------------------------------------------------------------- local files: deployments, keys, node.toml


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("artifacts")
    for name in ("PartnerRegistry", "OrderBook"):
        (folder / f"{name}.json").write_text('{"abi": []}')
    return folder


@FUZZ
@given(data=outside(DEPLOYMENT))
def test_deployment_files(artifacts: Path, data: bytes) -> None:
    v1_record = Path("deployments/31337.json")
    deployment = parsed_or_refused(lambda d: parse_deployment(d, v1_record, artifacts, protocol=1), data)
    if deployment is not None:
        assert isinstance(deployment, Deployment) and deployment.chain_id > 0 and deployment.deploy_block >= 0
        assert all(to_checksum_address(c.address) == c.address for c in deployment.contracts.values())


@pytest.fixture(scope="module")
def keyfile_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys") / "key.json"


@FUZZ
@given(data=outside(KEYSTORE, CHEAP_JSON_VALUES))
def test_v3_keystores(keyfile_path: Path, data: bytes) -> None:
    keyfile_path.write_bytes(data)
    account = parsed_or_refused(lambda path: unlock_keyfile(path, PASSWORD), keyfile_path, KeyfileError)
    if account is not None:  # the v3 MAC does not cover the IV: only a file naming its address catches an edited IV
        assert account.key == b"\x42" * 32 or not is_address(json.loads(data).get("address"))


@FUZZ
@given(data=edited_json(HPKE_KEYFILE, CHEAP_JSON_VALUES))
def test_hpke_keyfiles(data: bytes) -> None:
    keypair = parsed_or_refused(lambda d: decrypt_keyfile(json.loads(d), PASSWORD), data, KeyfileError)
    if keypair is not None:
        assert keypair.public_key == KEYPAIR.public_key


def test_a_keystore_that_would_take_minutes_to_unlock_is_refused(keyfile_path: Path) -> None:
    costly = json.loads(KEYSTORE)
    costly["crypto"]["kdfparams"].update(n=1 << 20, r=64)
    keyfile_path.write_text(json.dumps(costly))
    with pytest.raises(KeyfileError, match="cost more than this node allows"):
        unlock_keyfile(keyfile_path, PASSWORD)


TOML_VALUES = st.one_of(
    st.integers().map(str), st.floats().map(repr),
    st.booleans().map(lambda b: str(b).lower()), st.text(max_size=30).map(json.dumps),
    st.sampled_from(['"~nosuchuser/x"', '"\\u0000"', "1979-05-27", "[]", "{}", '["http://a:1"]', "[[[[1]]]]",
                     '{adapter = "robot"}', '{adapter = "hotfolder", inbox = 5}', '"0x12"', "-1", "1e999"]))
TOML_KEYS = st.sampled_from([*NodeConfig.model_fields, "_env_prefix", "_cli_parse_args", "_secrets_dir",
                             "policy.tokens", "policy.min_price_wei", "production.adapter", "production.inbox",
                             "colour", "1", '"quoted key"'])


@st.composite
def edited_toml(draw: st.DrawFn) -> str:
    """The documented example with one line replaced, removed, or a `key = value` line added at the top."""
    lines = EXAMPLE_TOML.read_text().splitlines()
    settings_lines = [i for i, line in enumerate(lines) if "=" in line and not line.startswith("#")]
    index = draw(st.sampled_from(settings_lines))
    action = draw(st.sampled_from(["value", "delete", "add"]))
    if action == "value":
        lines[index] = lines[index].split("=")[0] + "= " + draw(TOML_VALUES)
    elif action == "delete":
        del lines[index]
    else:
        lines.insert(0, f"{draw(TOML_KEYS)} = {draw(TOML_VALUES)}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.upper().startswith("FABMESH_"):
                env.delenv(name)
        yield tmp_path_factory.mktemp("node") / "node.toml"


@FUZZ
@given(data=edited_toml().map(str.encode) | OUTSIDE_BYTES | st.text(max_size=300).map(str.encode))
def test_node_config_files(config_path: Path, data: bytes) -> None:
    config_path.write_bytes(data)
    config = parsed_or_refused(NodeConfig.load, config_path)
    if config is not None:
        assert isinstance(config, NodeConfig) and config.rpc_urls


# ----------------------------------------------------------------- what users type


CLI_TEXT = (
    st.text(max_size=40)
    | st.from_regex(r"\A[+-]?[0-9٠-٩²]{0,30}(\.[0-9]{0,30})?\s?[a-zA-Z]{0,6}\Z")  # noqa: RUF001 - int() takes them
    | st.integers().map(str)
    | st.sampled_from(["1" * 5000, "1" * 5000 + "s", "+" + "9" * 30 + "d", "1e999", "NaN"])
)


@FUZZ
@given(text=CLI_TEXT, decimals=st.integers(min_value=0, max_value=36), token_units=st.booleans())
def test_amounts(text: str, decimals: int, token_units: bool) -> None:
    amount = parsed_or_refused(lambda t: parse_amount(t, decimals, token_units=token_units), text, click.BadParameter)
    if amount is not None:
        assert 0 <= amount <= MAX_UINT96


@FUZZ
@given(text=CLI_TEXT)
def test_durations_and_times(text: str) -> None:
    duration = parsed_or_refused(parse_duration, text, click.BadParameter)
    assert duration is None or duration > 0
    moment = parsed_or_refused(lambda t: parse_time(t, now=1_800_000_000), text, click.BadParameter)
    assert moment is None or 0 < moment <= MAX_UINT40


@FUZZ
@given(text=CLI_TEXT | st.text(alphabet="0123456789abcdefABCDEFx ", min_size=38, max_size=44)
       | st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex()).flatmap(
           lambda a: st.sampled_from([a, a.upper(), "0x" + a[2:].upper(), a[:-1], a + "0", " " + a])))
def test_addresses(text: str) -> None:
    address = parsed_or_refused(parse_address, text, click.BadParameter)
    if address is not None:
        assert address.startswith("0x") and len(address) == 42 and parse_address(address) == address


@FUZZ
@given(text=CLI_TEXT | st.lists(st.sampled_from(["FDM", "sla", "cnc-milling", " ", "", "X"]), max_size=4).map(",".join))
def test_vocabulary_names(text: str) -> None:
    bits = parsed_or_refused(lambda t: parse_names(t, {"FDM": 1, "SLA": 2, "CNC_MILLING": 32}, "process"), text,
                             click.BadParameter)
    assert bits is None or 0 < bits <= 35


@FUZZ
@given(text=CLI_TEXT | st.from_regex(r"\A[a-z_]{0,8}=-?[0-9]{0,40}(\.[0-9]{0,5})?(±|\+-)[0-9.]{0,6}[a-zµ%]{0,17}\Z")
       | st.sampled_from(["hole=" + "9" * 400 + "±0.1mm", "hole=1±" + "9" * 400 + "mm", "hole=6.0+/-0.05mm"]))
def test_tolerances(text: str) -> None:
    parsed = parsed_or_refused(_tolerance, text, click.BadParameter)
    if parsed is not None:
        name, tolerance = parsed
        assert name and set(tolerance) == {"nominal", "plus", "minus", "unit"}
        assert all(math.isfinite(tolerance[k]) for k in ("nominal", "plus", "minus"))


def test_signed_attestations_nested_deeper_than_the_interpreter_allows() -> None:
    from pynode.documents.signed_attestation import parse_signed_attestation

    parsed_or_refused(parse_signed_attestation, b"[" * 3000)
