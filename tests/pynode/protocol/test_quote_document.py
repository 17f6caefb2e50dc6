"""The signed-quote document's refusals: another domain, a signature that does not recover, bad JSON."""

from __future__ import annotations

import json

import pytest
from eth_account import Account

from pynode.core.errors import InputError
from pynode.documents.quote import parse_signed_quote, sign_quote
from pynode.protocol.eip712 import Domain
from pynode.protocol.v2.types import Quote

PARTNER = Account.from_key(b"\x05" * 32)
DOMAIN = Domain("fabmesh OrderBook", "2", 31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
QUOTE = Quote(b"\x01" * 32, PARTNER.address, PARTNER.address, 10**17, 10**16, 86400, 1_800_000_000, 256 * 3 + 1)


def test_a_quote_round_trips_and_recovers_its_partner() -> None:
    signed = sign_quote(PARTNER, DOMAIN, QUOTE)
    parsed = parse_signed_quote(signed.to_json())
    assert parsed == signed and parsed.recover_signer(DOMAIN) == PARTNER.address
    pretty = json.dumps(json.loads(signed.to_json()), indent=2)  # hand-edited whitespace still reads
    assert parse_signed_quote(pretty) == signed


@pytest.mark.parametrize("other", [DOMAIN._replace(chain_id=1),
                                   DOMAIN._replace(verifying_contract=PARTNER.address)])
def test_a_quote_under_another_domain_is_refused(other: Domain) -> None:
    with pytest.raises(InputError, match="signed quote is for chain 31337"):
        sign_quote(PARTNER, DOMAIN, QUOTE).recover_signer(other)


def test_a_quote_signed_by_another_key_recovers_that_key() -> None:
    forged = sign_quote(Account.from_key(b"\x06" * 32), DOMAIN, QUOTE)
    assert forged.recover_signer(DOMAIN) != PARTNER.address


def test_a_signature_that_does_not_recover_is_one_line() -> None:
    document = json.loads(sign_quote(PARTNER, DOMAIN, QUOTE).to_json())
    document["signature"] = "0x" + "00" * 64 + "1b"
    with pytest.raises(InputError, match=r"^signed quote: signature does not recover$"):
        parse_signed_quote(json.dumps(document)).recover_signer(DOMAIN)


@pytest.mark.parametrize(("text", "message"), [
    (b"[]", "not a fabmesh/signed-quote document"),
    (b'{"type": "fabmesh/signed-quote", "version": true}', "unsupported version True"),
    (b'{"type": "fabmesh/signed-quote", "version": 1, "type": 2}', "duplicate key 'type'"),
    (b"{" + b" " * 5000 + b"}", "larger than the 4096-byte limit"),
    (b'{"type": "fabmesh/signed-quote", "version": 1}', "missing field 'chain_id'"),
])
def test_malformed_documents_are_one_line_errors(text: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_signed_quote(text)


def test_values_must_fit_their_solidity_types() -> None:
    document = json.loads(sign_quote(PARTNER, DOMAIN, QUOTE).to_json())
    document["quote"]["price"] = str(2**96)
    with pytest.raises(InputError, match=r"quote\.price does not fit uint96"):
        parse_signed_quote(json.dumps(document))
    document["quote"]["price"], document["quote"]["expiry"] = "1", True
    with pytest.raises(InputError, match=r"quote\.expiry must be an integer"):
        parse_signed_quote(json.dumps(document))
