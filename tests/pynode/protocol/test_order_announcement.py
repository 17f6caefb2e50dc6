"""The order announcement document: canonical bytes that read back, and one-line refusals."""

from __future__ import annotations

import json

import pytest

from pynode.core.errors import InputError
from pynode.documents.order_announcement import OrderAnnouncement, parse_order_announcement

BOOK = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ANNOUNCEMENT = OrderAnnouncement(31337, BOOK, 2**256 - 1, bytes(range(32)))


def test_an_announcement_round_trips_canonically() -> None:
    data = ANNOUNCEMENT.to_json()
    assert data == (b'{"chain_id":31337,"order_book":"' + BOOK.encode() + b'","order_id":"' + str(2**256 - 1).encode()
                    + b'","terms_hash":"0x' + bytes(range(32)).hex().encode()
                    + b'","type":"fabmesh/order-announcement","version":1}')
    assert parse_order_announcement(data) == ANNOUNCEMENT
    lower = json.loads(data) | {"order_book": BOOK.lower()}
    assert parse_order_announcement(json.dumps(lower, indent=2)) == ANNOUNCEMENT  # checksummed on reading


def edited(**changes: object) -> str:
    document = json.loads(ANNOUNCEMENT.to_json())
    document.update(changes)
    return json.dumps({k: v for k, v in document.items() if v is not ...})


@pytest.mark.parametrize(("text", "message"), [
    ("[]", "not a fabmesh/order-announcement document"),
    ("x" * 2000, "larger than the 1024-byte limit"),
    (edited(version=2), "unsupported version"),
    (edited(version=True), "unsupported version"),
    (edited(extra=1), "fields must be exactly"),
    (edited(order_id=...), "fields must be exactly"),
    (edited(chain_id=0), "chain_id must be a positive integer"),
    (edited(chain_id="1"), "chain_id must be a positive integer"),
    (edited(order_book="0x12"), "order_book is not an address"),
    (edited(order_id=7), "order_id must be a uint256 decimal string"),
    (edited(order_id="07"), "order_id must be a uint256 decimal string"),
    (edited(order_id=str(2**256)), "order_id must be a uint256 decimal string"),
    (edited(terms_hash="0x00"), "terms_hash must be 0x-hex of 32 bytes"),
])
def test_malformed_announcements_are_one_line_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as refused:
        parse_order_announcement(text)
    assert "\n" not in str(refused.value)
