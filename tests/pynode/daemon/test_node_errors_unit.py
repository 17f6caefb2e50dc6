"""How the node sorts one job's failure, by type: a rate limit never fails a job and waits its Retry-After."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from eth_account import Account

from pynode.chain.tx import TxReverted
from pynode.core.errors import FatalError, InputError, IpfsUnavailable, ProviderUnavailable, RateLimited, ResultTooLarge
from pynode.daemon.config import NodeConfig
from pynode.daemon.node import Identity, Node
from pynode.daemon.store import JobState


@pytest.fixture
def node(tmp_path: Path):
    config = NodeConfig(work_dir=tmp_path / "work", poll_interval_s=1.0, rpc_urls=["http://127.0.0.1:9"])
    node = Node(config, Identity(Account.from_key(b"\x02" * 32), {}))
    yield node
    node.close()


def seen_job(node: Node, order_id: int = 7):
    return node.store.upsert_job(order_id, JobState.SEEN, {"buyer": "0x" + "11" * 20})


def test_a_rate_limit_never_fails_the_job_and_honours_retry_after(node: Node) -> None:
    job = seen_job(node)
    for attempt in range(30):  # more than MAX_JOB_ATTEMPTS: throttling is never "stubborn"
        before = time.time()
        node.steps.job_error(node.store.get_job(job.order_id), RateLimited("eth_call: HTTP 429", retry_after=30))
        after = node.store.get_job(job.order_id)
        assert after.state is JobState.SEEN and after.attempts == attempt + 1
        assert after.next_attempt_at >= before + 30


@pytest.mark.parametrize("exc", [IpfsUnavailable("kubo down"), ResultTooLarge("one block refused")])
def test_other_transient_errors_retry_later(node: Node, exc: Exception) -> None:
    job = seen_job(node)
    node.steps.job_error(job, exc)
    assert node.store.get_job(job.order_id).state is JobState.SEEN


def test_an_unreachable_endpoint_ends_the_cycle_without_failing_the_job(node: Node) -> None:
    job = seen_job(node)
    with pytest.raises(ProviderUnavailable):
        node.steps.job_error(job, ProviderUnavailable("eth_call: RPC endpoint unreachable"))
    assert node.store.get_job(job.order_id).state is JobState.SEEN


def test_bad_input_fails_the_job_and_fatal_stops(node: Node) -> None:
    job = seen_job(node)
    with pytest.raises(FatalError):
        node.steps.job_error(job, FatalError("partner suspended"))
    node.steps.job_error(job, InputError("spec document is not JSON"))
    assert node.store.get_job(job.order_id).state is JobState.FAILED


def test_a_revert_that_keeps_coming_fails_the_job_at_last(node: Node) -> None:
    seen_job(node, 8)
    for _ in range(25):
        node.steps.job_error(node.store.get_job(8), TxReverted("claim order 8", "OrderNotOpen(orderId=8)"))
    assert node.store.get_job(8).state is JobState.FAILED
