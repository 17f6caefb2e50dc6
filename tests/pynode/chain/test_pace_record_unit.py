"""The pace a command learned starts the next command's block clock; a torn or absurd record is none."""

from __future__ import annotations

import pytest

from pynode.chain.pace_record import PaceRecord


def test_a_saved_pace_is_loaded_by_the_next_command(tmp_path) -> None:
    PaceRecord(tmp_path, 1337).save(1.04)
    assert PaceRecord(tmp_path, 1337).load() == 1.04
    assert PaceRecord(tmp_path, 1).load() is None  # another chain's pace is not this one's


@pytest.mark.parametrize("text", ["", "{", "[]", '{"block_s": "1"}', '{"block_s": -1}', '{"block_s": 1e9}',
                                  '{"block_s": NaN}'])
def test_a_torn_or_absurd_record_is_no_pace(tmp_path, text) -> None:
    record = PaceRecord(tmp_path, 1337)
    record.path.parent.mkdir(parents=True)
    record.path.write_text(text)
    assert record.load() is None


def test_the_tip_asked_last_is_kept_beside_the_pace(tmp_path) -> None:
    record = PaceRecord(tmp_path, 1337)
    record.save(1.04, (1_800_000_000.5, 3))
    assert record.load() == 1.04 and record.load_tip() == (1_800_000_000.5, 3)
    record.save(None, (1_800_000_001.0, 4))  # a command that learned no pace: its tip is kept
    assert record.load_tip() == (1_800_000_001.0, 4)
    for text in ('{"tip": 3}', '{"tip": "3", "tip_at": 1}', '{"tip": -1, "tip_at": 1}', '{"tip": true, "tip_at": 1}'):
        record.path.write_text(text)
        assert record.load_tip() is None


def test_a_command_that_asked_no_tip_keeps_the_one_it_started_from(tmp_path) -> None:
    from types import SimpleNamespace

    from pynode.cli.context import CliContext
    from pynode.core.settings import Settings

    ctx = CliContext(Settings(home=tmp_path))
    PaceRecord(tmp_path, 1337).save(1.04, (1_800_000_000.5, 3))
    record = PaceRecord(tmp_path, 1337)
    # a read-only command: its clock started from the record's pace, no sender asked the node's tip
    reader = SimpleNamespace(chain_id=1337, clock=SimpleNamespace(block_s=record.load()), tip_hint=record.load_tip(),
                             asked_tip=lambda: None)
    ctx._save_pace(reader)
    assert record.load() == 1.04 and record.load_tip() == (1_800_000_000.5, 3)
    sender = SimpleNamespace(chain_id=1337, clock=SimpleNamespace(block_s=2.0), tip_hint=(1_800_000_000.5, 3),
                             asked_tip=lambda: (1_800_000_100.0, 5))
    ctx._save_pace(sender)  # a command that asked: its own tip and pace
    assert record.load() == 2.0 and record.load_tip() == (1_800_000_100.0, 5)
