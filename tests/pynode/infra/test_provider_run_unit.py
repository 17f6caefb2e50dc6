"""provider_run's TOML writer: what it writes reads back as the data given, or it refuses."""

from __future__ import annotations

import tomllib

import pytest

from provider_run import toml_text


def test_toml_text_reads_back_with_quotes_backslashes_newlines_and_non_ascii():
    data = {"home": 'C:\\dir "a"\nü', "confirmations": 1, "poll_interval_s": 0.5, "flag": True,
            "rpc_urls": ["http://127.0.0.1:1/x"],
            "policy": {"processes": ["CNC_MILLING"], "max_concurrent_jobs": 10}}
    assert tomllib.loads(toml_text(data)) == data


@pytest.mark.parametrize("data", [{"x": float("inf")}, {"x": None}, {"t": {"u": {"deeper": 1}}}])
def test_toml_text_refuses_what_toml_would_not_read_back(data):
    with pytest.raises((ValueError, TypeError)):
        toml_text(data)
