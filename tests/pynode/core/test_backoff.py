"""Backoff with full jitter and Retry-After, the bounded retry, and classification by type only."""

from __future__ import annotations

import random

import pytest

from pynode.core.backoff import Backoff, retry
from pynode.core.errors import (
    FatalError,
    InputError,
    IpfsUnavailable,
    Kind,
    ProviderUnavailable,
    RangeTooLarge,
    RateLimited,
    ResultTooLarge,
    RpcRejected,
    TransientError,
    WrongChain,
    classify,
    retry_after,
)
from rpc_fakes import FakeTime


def test_backoff_grows_exponentially_up_to_the_cap_with_full_jitter() -> None:
    backoff = Backoff(base_s=0.5, factor=2, cap_s=10, rng=random.Random(1))
    assert [backoff.ceiling(n) for n in range(7)] == [0.5, 1, 2, 4, 8, 10, 10]
    assert backoff.ceiling(10_000) == 10  # no overflow
    delays = [backoff.delay(3) for _ in range(300)]
    assert all(0 <= d <= 4 for d in delays) and len(set(delays)) > 250 and min(delays) < 0.5 and max(delays) > 3.5


def test_retry_after_is_a_floor_the_larger_of_the_two_wins() -> None:
    backoff = Backoff(base_s=1, cap_s=8, rng=random.Random(2))
    assert all(backoff.delay(5, 30.0) == 30.0 for _ in range(50))
    assert all(2.0 <= backoff.delay(3, 2.0) <= 8 for _ in range(50))
    assert any(backoff.delay(3, 2.0) > 2.0 for _ in range(50))


def test_retry_retries_transient_errors_and_returns() -> None:
    clock = FakeTime()
    answers = iter([RateLimited("429", retry_after=3), ProviderUnavailable("503"), "done"])

    def flaky() -> str:
        item = next(answers)
        if isinstance(item, Exception):
            raise item
        return item

    seen = []
    assert retry(flaky, timeout_s=60, backoff=Backoff(base_s=0.1, cap_s=1, rng=random.Random(0)), sleep=clock.sleep,
                 clock=clock.clock, on_retry=lambda n, exc, wait: seen.append((n, type(exc).__name__))) == "done"
    assert clock.sleeps[0] == 3.0 and 0 <= clock.sleeps[1] <= 0.2
    assert seen == [(0, "RateLimited"), (1, "ProviderUnavailable")]


@pytest.mark.parametrize("exc", [InputError("bad file"), FatalError("wrong chain"), KeyError("bug")])
def test_retry_raises_input_fatal_and_unknown_errors_at_once(exc: Exception) -> None:
    clock = FakeTime()
    calls = []

    def broken() -> None:
        calls.append(1)
        raise exc

    with pytest.raises(type(exc)):
        retry(broken, timeout_s=60, sleep=clock.sleep, clock=clock.clock)
    assert calls == [1] and clock.sleeps == []


def test_retry_gives_up_within_its_window_and_raises_the_last_error() -> None:
    clock = FakeTime()
    calls = []

    def down() -> None:
        calls.append(clock.now)
        raise ProviderUnavailable(f"down #{len(calls)}")

    with pytest.raises(ProviderUnavailable, match="down #"):
        retry(down, timeout_s=60, backoff=Backoff(base_s=1, cap_s=8, rng=random.Random(4)), sleep=clock.sleep,
              clock=clock.clock)
    assert clock.now <= 60 and len(calls) > 5 and max(clock.sleeps) <= 8


def test_a_retry_after_beyond_the_window_is_not_waited_for() -> None:
    clock = FakeTime()
    with pytest.raises(RateLimited):
        retry(lambda: (_ for _ in ()).throw(RateLimited("slow down", retry_after=90)), timeout_s=60,
              sleep=clock.sleep, clock=clock.clock)
    assert clock.sleeps == []


def test_a_zero_window_never_retries() -> None:
    clock = FakeTime()
    with pytest.raises(TransientError):
        retry(lambda: (_ for _ in ()).throw(TransientError("x")), timeout_s=0, sleep=clock.sleep, clock=clock.clock)
    assert clock.sleeps == []


def test_retry_can_be_narrowed_to_some_transient_types() -> None:
    clock = FakeTime()
    with pytest.raises(RangeTooLarge):
        retry(lambda: (_ for _ in ()).throw(RangeTooLarge("too wide", allowed_blocks=500)), timeout_s=60,
              transient=lambda exc: isinstance(exc, RateLimited), sleep=clock.sleep, clock=clock.clock)
    assert clock.sleeps == []


@pytest.mark.parametrize(("exc", "kind"), [
    (TransientError("x"), Kind.TRANSIENT),
    (RateLimited("429", retry_after=2), Kind.TRANSIENT),
    (ProviderUnavailable("503"), Kind.TRANSIENT),
    (IpfsUnavailable("kubo down"), Kind.TRANSIENT),
    (RangeTooLarge("wide", allowed_blocks=2000), Kind.TRANSIENT),
    (ResultTooLarge("many"), Kind.TRANSIENT),
    (InputError("bad result.json"), Kind.INPUT),
    (FatalError("suspended"), Kind.FATAL),
    (WrongChain("chain 1, not 11155111"), Kind.FATAL),
    (RpcRejected("HTTP 401"), Kind.FATAL),
    (KeyError("bug"), Kind.FATAL),
    (ConnectionError("a library's error that chain/rpc.py did not map"), Kind.FATAL),
])
def test_classification_is_by_type_only(exc: BaseException, kind: Kind) -> None:
    assert classify(exc) is kind


def test_the_same_words_in_another_type_do_not_matter() -> None:
    assert classify(FatalError("HTTP 429 rate limit, try again")) is Kind.FATAL
    assert classify(TransientError("fatal: wrong chain")) is Kind.TRANSIENT


def test_retry_after_and_allowed_blocks_are_carried() -> None:
    assert retry_after(RateLimited("x", retry_after=-4)) == 0.0
    assert retry_after(ProviderUnavailable("x")) is None and retry_after(KeyError()) is None
    assert RangeTooLarge("x", allowed_blocks=0).allowed_blocks is None
    assert ResultTooLarge("x", allowed_blocks=784).allowed_blocks == 784
