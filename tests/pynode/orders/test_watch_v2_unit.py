"""The v2 watcher's decisions beside decide_award (pynode/orders/v2/watch_state.py, settings.py): where a
channel quote goes, which rejections are logged, when an order is re-announced, what each status calls for,
and the ``[watch]`` / ``protocol`` keys of watch.toml. Pure: no chain, no Kubo (quotes really signed)."""

from __future__ import annotations

import pytest
from eth_account import Account

from pynode.core.errors import InputError
from pynode.daemon.config import WatchConfig
from pynode.documents.quote import sign_quote
from pynode.orders.award_policy import Rejection, RejectReason
from pynode.orders.quote_channel import VerifiedQuote
from pynode.orders.v2.settings import WatchLoopSettings
from pynode.orders.v2.watch_state import QuoteInbox, RejectionMemory, Step, announce_due, next_step
from pynode.protocol.eip712 import Domain
from pynode.protocol.v2 import eip712
from pynode.protocol.v2.types import OrderStatus, Quote

DOMAIN = Domain("fabmesh OrderBook", "2", 31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
SHOP = Account.from_key(b"\x07" * 32)
T1, T2 = b"\x01" * 32, b"\x02" * 32


def verified(terms_hash: bytes = T1, price: int = 10**17, nonce: int = 1) -> VerifiedQuote:
    quote = Quote(terms_hash, SHOP.address, SHOP.address, price, 10**16, 3600, 1_900_000_000, nonce)
    signed = sign_quote(SHOP, DOMAIN, quote)
    return VerifiedQuote(signed, eip712.digest(DOMAIN, quote), "peer")


def test_quotes_are_kept_by_terms_hash_in_arrival_order_once_each() -> None:
    inbox = QuoteInbox()
    a, b, c = verified(T1, nonce=1), verified(T2, nonce=2), verified(T1, nonce=3)
    assert [inbox.add(v) for v in (a, b, c, a)] == [True, True, True, False]
    assert list(inbox.for_terms(T1).values()) == [a, c]
    assert inbox.for_terms(T1)[c.signed.quote] is c  # the policy's choice maps back to its signature
    assert list(inbox.for_terms(T2).values()) == [b] and inbox.for_terms(b"\x03" * 32) == {}


def test_a_quote_whose_award_failed_is_excluded_and_a_settled_order_forgotten() -> None:
    inbox = QuoteInbox()
    a, b, other = verified(T1, nonce=1), verified(T1, nonce=2), verified(T2, nonce=3)
    for v in (a, b, other):
        inbox.add(v)
    inbox.exclude(a.digest)
    assert list(inbox.for_terms(T1).values()) == [b]
    assert not inbox.add(a)  # excluded stays excluded: a repeat off the channel does not revive it
    inbox.forget(T1)
    assert inbox.for_terms(T1) == {} and list(inbox.for_terms(T2).values()) == [other] and len(inbox) == 1


def test_the_inbox_is_bounded_oldest_first() -> None:
    inbox = QuoteInbox(limit=2)
    first, second, third = (verified(T1, nonce=n) for n in (1, 2, 3))
    for v in (first, second, third):
        inbox.add(v)
    assert list(inbox.for_terms(T1).values()) == [second, third] and len(inbox) == 2


def test_each_rejection_is_told_once_and_again_when_its_reason_changes() -> None:
    memory = RejectionMemory()
    quote = verified().signed.quote
    expired = Rejection(quote, RejectReason.EXPIRED, "expires")
    assert memory.fresh(7, [expired]) == [expired]
    assert memory.fresh(7, [expired]) == []
    outbid = Rejection(quote, RejectReason.OUTBID, "cheaper")
    assert memory.fresh(7, [expired, outbid]) == [outbid]
    assert memory.fresh(8, [expired]) == [expired]  # per order
    memory.forget(7)
    assert memory.fresh(7, [expired]) == [expired]


@pytest.mark.parametrize("status", [OrderStatus.COMPLETED, OrderStatus.RESOLVED, OrderStatus.REFUNDED,
                                    OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.FEE_COLLECTED])
def test_terminal_orders_are_done(status: OrderStatus) -> None:
    assert next_step(WatchLoopSettings(auto_confirm=True), status, 0, 10**10) is Step.DONE


def test_what_each_live_status_calls_for() -> None:
    on, off = WatchLoopSettings(auto_confirm=True), WatchLoopSettings(auto_confirm=False, refund_late=False)
    assert next_step(off, OrderStatus.OPEN, 0, 5) is Step.DECIDE
    assert next_step(on, OrderStatus.SHIPPED, 0, 5) is Step.CONFIRM
    assert next_step(off, OrderStatus.SHIPPED, 0, 5) is Step.NONE
    assert next_step(on, OrderStatus.SHIPPED, 0, 5, confirm_refused=True) is Step.NONE  # left to the buyer
    assert next_step(on, OrderStatus.DISPUTED, 0, 5) is Step.NONE
    # the book refunds an unshipped award only after its due date: not at it
    assert next_step(on, OrderStatus.AWARDED, 100, 100) is Step.NONE
    assert next_step(on, OrderStatus.AWARDED, 100, 101) is Step.REFUND
    assert next_step(off, OrderStatus.AWARDED, 100, 101) is Step.NONE


def test_an_open_order_is_announced_at_first_sight_then_every_interval() -> None:
    assert announce_due(None, 0.0, 30)
    assert not announce_due(100.0, 129.9, 30)
    assert announce_due(100.0, 130.0, 30)


def test_watch_toml_selects_protocol_2_and_its_tables(tmp_path) -> None:
    path = tmp_path / "watch.toml"
    path.write_text('protocol = 2\n[watch]\nauto_confirm = true\non_give_up = "keep"\nannounce_s = 5\n'
                    '[award]\nmode = "best"\nwait_s = 3\n')
    config = WatchConfig.load(path)
    assert config.protocol == 2 and config.watch == WatchLoopSettings(auto_confirm=True, on_give_up="keep",
                                                                      announce_s=5)
    assert config.award.wait_s == 3
    (tmp_path / "default.toml").write_text("[award]\nwait_s = 3\n")
    assert WatchConfig.load(tmp_path / "default.toml").protocol == 2  # the default: the v2 watcher
    (tmp_path / "v1.toml").write_text("protocol = 1\n[award]\nwait_s = 3\n")
    assert WatchConfig.load(tmp_path / "v1.toml").protocol == 1  # v1's watcher, when chosen


@pytest.mark.parametrize(("text", "error"), [
    ("protocol = 3\n", "protocol"),
    ('[watch]\non_give_up = "refund"\n', "watch.on_give_up"),
    ("[watch]\nannounce_s = -1\n", "watch.announce_s"),
    ("[watch]\nretry = 1\n", "watch.retry"),
])
def test_bad_watch_keys_are_one_line_errors(tmp_path, text: str, error: str) -> None:
    path = tmp_path / "watch.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=error) as raised:
        WatchConfig.load(path)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(("text", "error"), [(None, "config file not found"), ("protocol = 3\n", "protocol")])
def test_watch_orders_refuses_a_bad_watch_toml_in_one_line_before_any_prompt(fabmesh_main, tmp_path, monkeypatch,
                                                                              text: str | None, error: str) -> None:
    monkeypatch.setenv("FABMESH_HOME", str(tmp_path / "home"))
    path = tmp_path / "watch.toml"
    if text is not None:
        path.write_text(text)
    result = fabmesh_main("node", "watch-orders", "-c", path, "--once")
    assert result.exit_code == 1 and error in result.stderr and result.stderr.count("\n") == 1
    assert "Password" not in result.stderr + result.stdout
