"""Every CID layout Kubo's own `ipfs add` makes round-trips through the bytes32 the contracts store."""

from __future__ import annotations

import hashlib
import os

import pytest

from pynode.core.errors import InputError
from pynode.dev.kubo import KuboNode
from pynode.ipfs.cid import DAG_PB, RAW, cid_to_digest, digest_to_cid, parse_cid, report_cid
from pynode.ipfs.client import IpfsClient

pytestmark = pytest.mark.integration

SMALL, MULTI_BLOCK = 3_000, 700_000  # Kubo's chunker cuts 256 KiB blocks


@pytest.fixture
def ipfs(kubo: KuboNode):
    with IpfsClient(kubo.api_url, timeout=10) as client:
        yield client


def kubo_add(kubo: KuboNode, path, *flags: str) -> str:
    return kubo.ipfs("add", "-Q", *flags, str(path)).decode().strip()


@pytest.mark.parametrize("size, flags, codec", [
    (SMALL, ("--cid-version", "1"), RAW),  # Kubo's CIDv1 default: raw leaves, one block is a raw block
    (SMALL, ("--cid-version", "1", "--raw-leaves"), RAW),
    (MULTI_BLOCK, ("--cid-version", "1", "--raw-leaves"), DAG_PB),  # raw leaves under a dag-pb root
    (SMALL, ("--cid-version", "1", "--raw-leaves=false"), DAG_PB),
    (MULTI_BLOCK, ("--cid-version", "1", "--raw-leaves=false"), DAG_PB),
], ids=["default-small", "raw-small", "raw-multi", "dagpb-small", "dagpb-multi"])
def test_kubo_cid_round_trips_with_its_codec(kubo, ipfs, tmp_path, size, flags, codec):
    payload = os.urandom(size)
    path = tmp_path / "file.bin"
    path.write_bytes(payload)
    cid = kubo_add(kubo, path, *flags)

    parsed = parse_cid(cid)
    assert parsed.codec == codec
    assert digest_to_cid(cid_to_digest(cid), parsed.codec) == cid
    assert (parsed.digest == hashlib.sha256(payload).digest()) == (codec == RAW)  # the report rule's premise
    assert report_cid(parsed.digest, hashlib.sha256(payload).digest()) == cid
    assert ipfs.cat_bytes(digest_to_cid(parsed.digest, parsed.codec), max_size=size) == payload
    for base in ("base58btc", "base32upper", "base36"):  # other spellings Kubo prints name the same CID
        assert parse_cid(kubo.ipfs("cid", "format", "-b", base, cid).decode().strip()) == parsed


def test_client_adds_both_layouts_as_kubo_does(kubo, ipfs, tmp_path):
    payload = os.urandom(SMALL)
    path = tmp_path / "file.bin"
    path.write_bytes(payload)
    assert ipfs.add_bytes(payload, raw_leaves=True) == kubo_add(kubo, path, "--cid-version", "1")
    assert ipfs.add_bytes(payload) == kubo_add(kubo, path, "--cid-version", "1", "--raw-leaves=false")


@pytest.mark.parametrize("flags, message", [
    (("--cid-version", "1", "--hash", "blake2b-256"), "hashed with blake2b-256"),
    (("--cid-version", "1", "--hash", "sha2-512"), "hashed with sha2-512"),
    (("--cid-version", "1", "--inline"), "hashed with identity"),
])
def test_kubo_cids_fabmesh_cannot_record_are_one_line_errors(kubo, tmp_path, flags, message):
    path = tmp_path / "small.txt"
    path.write_bytes(b"a short note\n")
    with pytest.raises(InputError, match=message):
        cid_to_digest(kubo_add(kubo, path, *flags))


def test_dag_cbor_cid_is_refused(kubo):
    cid = kubo.ipfs("dag", "put", input=b'{"a": 1}').decode().strip()  # dag-json in, dag-cbor stored
    with pytest.raises(InputError, match="codec dag-cbor: fabmesh records only dag-pb and raw CIDs"):
        cid_to_digest(cid)
