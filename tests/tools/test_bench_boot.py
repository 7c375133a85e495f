"""tools/bench_boot.py: how spans are read off the console and how user-data is sized (no boots here;
the boots themselves are what `make bench-boot` runs)."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest

from tools.bench_boot import (
    BASELINE_END_MARK,
    READY_MARK,
    START_MARK,
    BootTiming,
    UserDataSize,
    render,
    span,
    user_data_sizes,
)

STACKS = Path(__file__).resolve().parents[2] / "stacks"
CONSOLE = [
    (3.0, "[    2.1] Booting Linux"),
    (20.5, "cloud-init[310]: Cloud-init v. 25.1.4 running 'init-local' at Fri, 27 Nov 2026. Up 18.2 seconds."),
    (48.0, "cloud-init[420]: Cloud-init v. 25.1.4 running 'modules:final' at Fri, 27 Nov 2026."),
    (61.25, "cloud-init[421]: arm64-runner: READY name=r labels=self-hosted"),
    (62.0, "cloud-init[421]: Cloud-init v. 25.1.4 finished at Fri, 27 Nov 2026. Up 60.1 seconds"),
]


def test_span_runs_from_the_first_start_line_to_the_first_later_end_line() -> None:
    assert span(CONSOLE, START_MARK, READY_MARK) == pytest.approx(40.75)
    assert span(CONSOLE, START_MARK, BASELINE_END_MARK) == pytest.approx(41.5)


def test_span_names_what_is_missing() -> None:
    with pytest.raises(ValueError, match="READY"):
        span(CONSOLE[:3], START_MARK, READY_MARK)
    with pytest.raises(ValueError, match="init-local"):
        span(CONSOLE[2:], START_MARK, READY_MARK)


def test_render_reports_ratio_median_and_size_verdicts() -> None:
    timings = [BootTiming(1, 40.0, 50.0, 70.0, 80.0), BootTiming(2, 40.0, 60.0, 70.0, 90.0)]
    sizes = [UserDataSize("s", "r-ok", 8192, 3000, 4000), UserDataSize("s", "r-big", 9000, 17000, 22668)]
    text = render(timings, sizes)
    assert "median ratio 1.38 (misses the 1.25x goal)" in text
    verdicts = [line.split()[-2:] for line in text.splitlines() if line.startswith("s ")]
    assert verdicts == [["ok", "ok"], ["MISS", "OVER"]]


def test_sizes_come_from_the_real_program_for_each_stack_file(tmp_path: Path) -> None:
    example = next(iter(sorted(STACKS.glob("Pulumi.*.yaml"))), None)
    if example is None:
        pytest.skip("no example stack under stacks/")
    shutil.copy(example, tmp_path / example.name)
    sizes = user_data_sizes(tmp_path)
    assert sizes, f"{example.name} rendered no user-data"
    stack = example.name.removeprefix("Pulumi.").removesuffix(".yaml")
    for size in sizes:
        assert size.stack == stack
        assert 0 < size.gzip_bytes < size.raw_bytes
        assert size.gzip_base64_bytes == len(base64.b64encode(b"x" * size.gzip_bytes))
