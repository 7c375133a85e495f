"""Seven simulated days against a 3-runner pool (see timeline.py): every job finds a started runner."""

from __future__ import annotations

from tests.functions.wake.timeline import RUNNERS, simulate


def test_a_week_of_jobs_always_finds_a_started_runner() -> None:
    (report,) = list(simulate())
    print("\n" + "\n".join(report.lines()))
    assert report.jobs > 200 and report.unstarted == 0
    # Every stop was a watchdog power-off after a start; at most RUNNERS are still up at the end.
    assert report.starts >= report.stops >= report.starts - RUNNERS
    assert report.stops > 0 and report.reregistrations == 1  # the runner GitHub had forgotten, once
    assert report.busy_hours < report.up_hours < report.always_on_hours / 2
