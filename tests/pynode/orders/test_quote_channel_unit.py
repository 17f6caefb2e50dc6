"""The quote channel's decisions without a socket: Kubo's multibase encoding, the sub stream's lines, which
documents are delivered, dropped (by reason) or deduplicated, and the bounded memory of digests."""

from __future__ import annotations

import json

import pytest
from eth_account import Account

from pynode.core.errors import InputError, IpfsUnavailable
from pynode.documents.order_announcement import OrderAnnouncement
from pynode.documents.quote import SignedQuote, sign_quote
from pynode.ipfs.client import IpfsRequestRejected
from pynode.ipfs.pubsub import KuboPubsub, multibase_decode, multibase_encode, multipart_file, parse_message, refusal
from pynode.orders.quote_channel import QuoteChannel, SeenSet, topics
from pynode.protocol.eip712 import Domain
from pynode.protocol.v2 import eip712
from pynode.protocol.v2.types import Quote

PARTNER = Account.from_key(b"\x05" * 32)
OTHER = Account.from_key(b"\x06" * 32)
BOOK = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DOMAIN = Domain("fabmesh OrderBook", "2", 31337, BOOK)
NOW = 1_700_000_000
QUOTE = Quote(b"\x01" * 32, PARTNER.address, PARTNER.address, 10**17, 10**16, 86400, NOW + 600, 769)
#: a line Kubo 0.42's /api/v0/pubsub/sub wrote for b"hello 0" on topic "fabmesh/test"
KUBO_LINE = (b'{"from":"12D3KooWDcbUnF17hib2xg2kMRvGadiBHH9tcJ5VCrEW3dMf65xx","data":"uaGVsbG8gMA",'
             b'"seqno":"uGO020g6FsMY","topicIDs":["uZmFibWVzaC90ZXN0"]}')


def channel(**kwargs: object) -> tuple[QuoteChannel, list[tuple[str, dict]]]:
    logged: list[tuple[str, dict]] = []
    # constructing the Kubo transport opens no connection; these tests never publish or subscribe
    made = QuoteChannel(KuboPubsub("http://127.0.0.1:9"), DOMAIN, clock=lambda: NOW,
                        log=lambda event, **fields: logged.append((event, fields)), **kwargs)  # type: ignore[arg-type]  # test-only keywords
    return made, logged


def test_topics_and_data_use_kubo_multibase_base64url() -> None:
    assert multibase_encode(b"fabmesh/test") == "uZmFibWVzaC90ZXN0"  # as Kubo wrote it in topicIDs
    for size in range(6):  # every padding length round-trips without '='
        data = bytes(range(250, 250 - size, -1))
        assert "=" not in multibase_encode(data) and multibase_decode(multibase_encode(data)) == data
    message = parse_message(KUBO_LINE)
    assert (message.sender, message.data) == ("12D3KooWDcbUnF17hib2xg2kMRvGadiBHH9tcJ5VCrEW3dMf65xx", b"hello 0")


@pytest.mark.parametrize("text", ["maGVsbG8", "uaGV+bG8", "uaGVsb", "", None, 7])
def test_anything_but_base64url_multibase_is_refused(text: object) -> None:
    with pytest.raises(InputError, match="not multibase base64url"):
        multibase_decode(text)


@pytest.mark.parametrize("line", [b"{", b"[]", b'{"data": "uAA"}', b'{"from": "p", "data": "zAA", "seqno": "u"}'])
def test_a_malformed_stream_line_is_one_input_error(line: bytes) -> None:
    with pytest.raises(InputError, match=r"^pubsub message"):
        parse_message(line)


def test_each_deployment_has_its_own_topics() -> None:
    quotes, orders = topics(31337, BOOK)
    assert quotes == f"fabmesh/v2/31337/{BOOK.lower()}/quotes" and orders.endswith("/orders")
    assert topics(1, BOOK)[0] != quotes and topics(31337, "0x" + "11" * 20)[0] != quotes


def test_a_valid_quote_is_delivered_once_with_its_digest() -> None:
    chan, _ = channel()
    data = sign_quote(PARTNER, DOMAIN, QUOTE).to_json()
    received = chan.accept_quote(data, "peer-a")
    assert received is not None and received.peer == "peer-a"
    assert received.signed.quote == QUOTE and received.digest == eip712.digest(DOMAIN, QUOTE)
    assert chan.accept_quote(data, "peer-b") is None  # relayed again, or by another peer
    pretty = json.dumps(json.loads(data), indent=1).encode()  # same quote, other bytes: same digest
    assert chan.accept_quote(pretty) is None
    assert chan.stats == {"delivered": 1, "duplicate": 2}


def test_a_repeat_is_dropped_before_it_is_parsed_and_only_delivered_bytes_are_remembered(monkeypatch) -> None:
    import pynode.orders.quote_channel as module

    chan, _ = channel()
    parsed: list[bytes] = []
    for name in ("parse_signed_quote", "parse_order_announcement"):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda data, real=real: parsed.append(data) or real(data))
    quote = sign_quote(PARTNER, DOMAIN, QUOTE).to_json()
    announcement = OrderAnnouncement(31337, BOOK, 42, b"\x02" * 32).to_json()
    assert chan.accept_quote(quote) is not None and chan.accept_announcement(announcement) is not None
    for _ in range(3):
        assert chan.accept_quote(quote) is None and chan.accept_announcement(announcement) is None
    assert parsed == [quote, announcement]  # the six repeats were never parsed
    assert chan.accept_quote(b"{not json") is None and chan.accept_quote(b"{not json") is None
    assert chan.stats == {"delivered": 2, "duplicate": 6, "invalid_malformed": 2}  # a refused message is not kept


def test_a_forged_copy_arriving_first_does_not_shadow_the_real_quote() -> None:
    chan, logged = channel()
    real = sign_quote(PARTNER, DOMAIN, QUOTE)
    forged = SignedQuote(real.chain_id, real.order_book, real.quote, eip712.sign(OTHER, DOMAIN, QUOTE))
    assert chan.accept_quote(forged.to_json(), "mallory") is None
    assert chan.accept_quote(real.to_json()) is not None
    assert chan.stats["invalid_bad_signature"] == 1 and chan.stats["delivered"] == 1
    assert logged[0][0] == "quote_dropped" and logged[0][1]["reason"] == "bad_signature"
    assert logged[0][1]["peer"] == "mallory" and OTHER.address in logged[0][1]["error"]


@pytest.mark.parametrize(("make", "reason"), [
    (lambda: b"{not json", "malformed"),
    (lambda: b'{"type": "fabmesh/order-announcement"}', "malformed"),
    (lambda: sign_quote(PARTNER, DOMAIN._replace(chain_id=1), QUOTE).to_json(), "other_deployment"),
    (lambda: sign_quote(PARTNER, DOMAIN, QUOTE._replace(expiry=NOW - 1)).to_json(), "expired"),
    (lambda: json.dumps({**json.loads(sign_quote(PARTNER, DOMAIN, QUOTE).to_json()),
                         "signature": "0x" + "00" * 64 + "1b"}).encode(), "bad_signature"),
])
def test_invalid_quotes_are_dropped_and_counted_by_reason(make, reason: str) -> None:
    chan, logged = channel()
    assert chan.accept_quote(make()) is None
    assert chan.stats == {f"invalid_{reason}": 1}
    assert [(event, fields["reason"]) for event, fields in logged] == [("quote_dropped", reason)]


def test_a_quote_expiring_this_second_is_still_delivered() -> None:
    chan, _ = channel()
    assert chan.accept_quote(sign_quote(PARTNER, DOMAIN, QUOTE._replace(expiry=NOW)).to_json()) is not None


def test_the_digest_memory_is_bounded() -> None:
    seen = SeenSet(limit=3)
    assert all(seen.add(key) for key in (1, 2, 3))
    assert not seen.add(1)  # refreshed: 2 is now the oldest
    assert seen.add(4) and len(seen) == 3 and 2 not in seen and 1 in seen
    chan, _ = channel(max_seen=2)
    quotes = [QUOTE._replace(nonce=n) for n in range(3)]
    for quote in quotes:
        assert chan.accept_quote(sign_quote(PARTNER, DOMAIN, quote).to_json()) is not None
    assert chan.accept_quote(sign_quote(PARTNER, DOMAIN, quotes[0]).to_json()) is not None  # forgotten


def test_announcements_are_delivered_once_and_only_for_this_deployment() -> None:
    chan, _ = channel()
    announcement = OrderAnnouncement(31337, BOOK, 42, b"\x02" * 32)
    assert chan.accept_announcement(announcement.to_json(), "peer") == announcement
    assert chan.accept_announcement(announcement.to_json()) is None
    assert chan.accept_announcement(announcement._replace(chain_id=5).to_json()) is None
    assert chan.accept_announcement(sign_quote(PARTNER, DOMAIN, QUOTE).to_json()) is None  # a quote on the wrong topic
    assert chan.stats == {"delivered": 1, "duplicate": 1, "invalid_other_deployment": 1, "invalid_malformed": 1}


def test_publishing_for_another_deployment_is_refused_before_anything_is_sent() -> None:
    chan, _ = channel()
    with pytest.raises(InputError, match="signed quote is for chain 1 "):
        chan.publish_quote(sign_quote(PARTNER, DOMAIN._replace(chain_id=1), QUOTE))
    with pytest.raises(InputError, match="another deployment"):
        chan.announce(OrderAnnouncement(31337, "0x" + "11" * 20, 1, b"\x00" * 32))


def test_a_publish_body_is_one_file_part_whose_boundary_is_not_in_the_data() -> None:
    data = b"--\r\n\x00quote\xff"
    body, content_type = multipart_file(data)
    boundary = content_type.removeprefix("multipart/form-data; boundary=")
    assert content_type.startswith("multipart/form-data; boundary=") and boundary.encode() not in data
    head, _, rest = body.partition(b"\r\n\r\n")
    assert head.startswith(f"--{boundary}\r\n".encode()) and b'name="file"; filename="data"' in head
    assert rest == data + f"\r\n--{boundary}--\r\n".encode()
    assert multipart_file(data)[1] != content_type  # a fresh boundary each time


def test_kubos_refusals_are_sorted_by_its_message() -> None:
    race = refusal("pub", 500, b'{"Message":"validation ignored","Code":0,"Type":"error"}')
    assert isinstance(race, IpfsUnavailable)  # published again, then transient
    off = refusal("pub", 500, b'{"Message":"experimental pubsub feature not enabled","Code":0}')
    assert isinstance(off, IpfsRequestRejected) and "not enabled" in str(off)
    assert not isinstance(refusal("sub", 500, b'{"Message":"validation ignored"}'), IpfsUnavailable)
    for body in (b"<html>bad gateway</html>", b"[1]", b""):
        assert str(refusal("pub", 502, body)) == "IPFS pubsub pub refused: HTTP 502"
