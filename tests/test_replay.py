"""Committed figures replay: the MiniRocket study's run table, retrained from its seed on the
real data, gives the same test accuracy (within 0.05 points on any CPU, at any thread count:
the test runs at torch's default threads, the row was trained at one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.replay import replay


def test_a_minirocket_row_replays_on_this_cpu(real_home: Path) -> None:
    recorded, now = replay("minirocket-validated", 0, str(real_home), None)
    assert recorded == pytest.approx(97.2854, abs=1e-4)  # the row this test replays
    assert abs(now - recorded) <= 0.05
