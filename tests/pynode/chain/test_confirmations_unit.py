"""Confirmation depth decisions: which block may be acted on, and what the progress says."""

from __future__ import annotations

import pytest

from pynode.chain.confirmations import Progress, block_time, blocks_on_top, is_confirmed, safe_block
from pynode.core.settings import DEFAULT_CONFIRMATIONS, Settings
from pynode.daemon.config import NodeConfig


@pytest.mark.parametrize(("block", "head", "confirmations", "confirmed"), [
    (100, 100, 3, False),  # in the head block: nothing on top
    (100, 101, 3, False),  # 1 deep
    (100, 102, 3, False),  # 2 deep
    (100, 103, 3, True),   # 3 blocks on top: confirmations = 3 reached
    (100, 150, 3, True),
    (100, 100, 0, True),   # 0: the head itself counts (a chain that mines on demand)
    (101, 100, 0, False),  # a block above the head (a reorg shortened the chain) is never confirmed
])
def test_a_block_counts_once_confirmations_blocks_are_on_top(block, head, confirmations, confirmed) -> None:
    assert is_confirmed(block, head, confirmations) is confirmed
    assert (block <= safe_block(head, confirmations)) is confirmed


def test_safe_block_is_head_minus_confirmations() -> None:
    assert safe_block(123, 3) == 120 and safe_block(2, 3) == -1 and safe_block(7, 0) == 7
    assert blocks_on_top(120, 123) == 3 and blocks_on_top(125, 123) == 0


def test_progress_counts_blocks_on_top_and_estimates_the_rest_by_the_chains_clock() -> None:
    waiting = [Progress(123, head, 3, 12.0, tx_hash="0xab") for head in (123, 124, 125, 126, 130)]
    assert [p.confirmations for p in waiting] == [0, 1, 2, 3, 3]
    assert [p.done for p in waiting] == [False, False, False, True, True]
    assert [p.remaining_s for p in waiting] == [36.0, 24.0, 12.0, 0.0, 0.0]
    assert waiting[1].line() == "waiting for confirmations: 1/3 (block 123, ~24 s)"
    assert Progress(123, 123, 3).line() == "waiting for confirmations: 0/3 (block 123)"  # no block time yet
    assert waiting[3].line() == "confirmed: 3/3 (block 123)"
    assert waiting[2].fields() == {"block": 123, "head": 125, "confirmations": 2, "required": 3, "eta_s": 12.0,
                                   "tx": "0xab", "order_id": None}


def test_block_time_from_two_points_of_the_chain() -> None:
    assert block_time((100, 1_000), (103, 1_036)) == 12.0
    assert block_time((100, 1_000), (100, 1_000)) is None  # one block: no pace yet


def test_the_cli_and_the_daemon_share_one_default(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("FABMESH_CONFIRMATIONS", raising=False)
    monkeypatch.setenv("FABMESH_HOME", str(tmp_path))
    (tmp_path / "node.toml").write_text("")
    assert Settings().confirmations == NodeConfig.load(tmp_path / "node.toml").confirmations == DEFAULT_CONFIRMATIONS
    monkeypatch.setenv("FABMESH_CONFIRMATIONS", "3")
    assert Settings().confirmations == NodeConfig.load(tmp_path / "node.toml").confirmations == 3
