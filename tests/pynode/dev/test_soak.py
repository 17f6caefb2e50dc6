"""A small `make soak`: the same machinery and checks at a size the suite can afford (a minute or two).

Orders from two buyers race three daemons; daemons are SIGKILLed and restarted and the Kubo node
half of them use is restarted. The books must balance exactly as in the full run.
"""

from __future__ import annotations

import pytest

from bench.soak_run import SoakPlan, run_soak

pytestmark = pytest.mark.integration


def test_small_soak_keeps_every_promise(tmp_path):
    plan = SoakPlan(protocol=1, orders=24, buyers=2, daemons=3, burst=(6, 12), burst_gap_s=(1.0, 3.0),
                    kill_every_s=(4.0, 8.0), down_s=(0.5, 2.0), kubo_restart_at=0.3, kubo_down_s=2.0,
                    cancel_rate=0.15, defect_rate=0.1, stall_s=20.0, invariant_every_s=5.0, timeout_s=900.0, seed=3)
    lines: list[str] = []
    result = run_soak(plan, tmp_path / "soak", lines.append)

    assert result["violations"] == [], "\n".join(lines[-20:])
    assert result["orders"] == 24 and result["terminal_exactly_once"]
    assert result["duplicate_claims"] == 0 and result["lost_attestations"] == 0
    assert result["invariant_violations"] == 0 and result["escrow_checks"] >= 3 and result["audit_checks"] > 24 * 10
    assert result["kills"] >= 2 and result["kubo_restarts"] == 1
    assert result["paid"] + result["final_status"].get("REFUNDED", 0) + result["final_status"].get("CANCELLED", 0) == 24
    assert result["unclean_stops"] == 0 and result["daemon_rss_peak_mib"] > 0, "\n".join(lines[-20:])


def test_small_v2_soak_keeps_every_promise(tmp_path):
    """The v2 run: quotes off chain, awards by the watchers' policy; the partners spend gas on won orders only."""
    plan = SoakPlan(protocol=2, orders=12, buyers=2, daemons=3, burst=(4, 8), burst_gap_s=(1.0, 3.0),
                    kill_every_s=(5.0, 10.0), down_s=(0.5, 2.0), kubo_restart_at=0.3, kubo_down_s=2.0,
                    cancel_rate=0.1, defect_rate=0.0, stall_s=20.0, invariant_every_s=5.0, timeout_s=900.0, seed=3)
    lines: list[str] = []
    result = run_soak(plan, tmp_path / "soak", lines.append)

    assert result["violations"] == [], "\n".join(lines[-20:])
    assert result["orders"] == 12 and result["terminal_exactly_once"]
    assert result["double_awards"] == 0 and result["double_payouts"] == 0
    assert result["losing_quote_gas"] == 0 and result["partner_txs"] > 0  # measured: the winners' ships were seen
    assert result["invariant_violations"] == 0 and result["escrow_checks"] >= 3 and result["audit_checks"] > 12 * 5
    assert result["quotes_signed"] > result["awarded_by_watchers"] > 0  # several shops quoted; one award each
    assert result["kills"] >= 2 and result["kubo_restarts"] == 1
    assert result["daemon_duplicate_mined_actions"] == 0 and result["unclean_stops"] == 0, "\n".join(lines[-20:])
    assert sum(result["final_status"].values()) == 12
    assert result["posting_minutes"] > 0 and result["posted_per_min"] > 0  # the schedule's ceiling, reported
