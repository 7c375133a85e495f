"""`make bench-wake` runs and prints figures (the numbers themselves are reported, never asserted)."""

from __future__ import annotations

import json

from tools import bench_wake


def test_bench_wake_prints_its_figures(capsys) -> None:
    assert bench_wake.main(["--deliveries", "3", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert [f["scenario"] for f in figures] == ["listed", "ephemeral"]
    for f in figures:
        assert f["deliveries"] == 3 and 0 < f["aws_p50_ms"] < f["total_p50_ms"]
