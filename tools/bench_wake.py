"""Wake benchmark: handler time from a delivery's arrival to its StartInstances call.

    python -m tools.bench_wake [--deliveries 200] [--json]      (`make bench-wake`)

The real handler (functions/wake) on moto (EC2, SSM, DynamoDB) with the fake GitHub API on 127.0.0.1,
a 4-runner pool stopped again after every delivery. Each delivery is signed like GitHub's and timed
from the handler's entry to the moment botocore sends StartInstances. The AWS calls before it
(DescribeInstances, the DynamoDB claims; SSM when a hand-off is written) and the GitHub calls (list
runners; token/JIT mint) are timed too: "handler" = the total minus those calls, i.e. what the
function itself costs (signature, parsing, matching, boto3/urllib work). Goal: p99 handler ≤ 100 ms.
Two scenarios: a runner GitHub still lists (starts as it is) and an ephemeral one (fresh JIT config).
One warm-up delivery per scenario (cold credential read) is reported apart.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

GOAL_MS = 100.0
POOL = 4


@dataclass
class Sample:
    total_ms: float
    aws_ms: float
    github_ms: float

    @property
    def handler_ms(self) -> float:
        return self.total_ms - self.aws_ms - self.github_ms


@dataclass
class Figures:
    scenario: str
    deliveries: int
    cold_total_ms: float
    total_p50_ms: float
    total_p99_ms: float
    aws_p50_ms: float
    github_p50_ms: float
    handler_p50_ms: float
    handler_p99_ms: float
    handler_share: float
    goal_met: bool


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Stopwatch:
    """Times boto3 calls (botocore events) and GitHub calls (GithubClient._send) during one delivery."""

    def __init__(self) -> None:
        self.aws = self.github = 0.0
        self.started_at: float | None = None
        self._call_began: dict[str, float] = {}

    def reset(self) -> None:
        self.aws = self.github = 0.0
        self.started_at = None

    def attach(self, clients: list[Any]) -> None:
        for client in clients:
            client.meta.events.register("before-call.*.*", self._before)
            client.meta.events.register("after-call.*.*", self._after)

    def _before(self, model: Any, **_: Any) -> None:
        now = time.perf_counter()
        if model.name == "StartInstances" and self.started_at is None:
            self.started_at = now
        self._call_began[model.name] = now

    def _after(self, model: Any, **_: Any) -> None:
        began = self._call_began.pop(model.name, None)
        if began is not None and self.started_at is None:  # calls made before StartInstances only
            self.aws += time.perf_counter() - began

    def wrap_github(self, send: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return send(*args, **kwargs)
            finally:
                if self.started_at is None:
                    self.github += time.perf_counter() - began

        return timed


def run(scenario: str, deliveries: int) -> Figures:
    from components.github.rest import GithubClient
    from functions.wake.settings import PoolSpec
    from tests.functions.wake.world import LABELS, wake_world

    fake_now = itertools.count(1_767_225_600, 1000)  # every delivery later than any claim's expiry
    watch = Stopwatch()
    real_send = GithubClient._send
    GithubClient._send = watch.wrap_github(real_send)  # type: ignore[method-assign]
    try:
        with wake_world(
            [PoolSpec("pool", LABELS, POOL)], ephemeral=scenario == "ephemeral", clock=lambda: float(next(fake_now))
        ) as world:
            waker = world.app.waker
            watch.attach([waker.ec2, waker.ssm, waker.claims.dynamodb])
            samples = []
            for n in range(deliveries + 1):
                watch.reset()
                began = time.perf_counter()
                answer = world.queued(LABELS, delivery=f"bench-{scenario}-{n}", job_id=n)
                assert answer.body.get("status") == "started", answer
                assert watch.started_at is not None
                samples.append(Sample((watch.started_at - began) * 1000, watch.aws * 1000, watch.github * 1000))
                world.stop([answer.body["instance_id"]])
    finally:
        GithubClient._send = real_send  # type: ignore[method-assign]
    cold, warm = samples[0], samples[1:]
    handler = [s.handler_ms for s in warm]
    totals = [s.total_ms for s in warm]
    return Figures(
        scenario=scenario,
        deliveries=len(warm),
        cold_total_ms=cold.total_ms,
        total_p50_ms=percentile(totals, 0.5),
        total_p99_ms=percentile(totals, 0.99),
        aws_p50_ms=percentile([s.aws_ms for s in warm], 0.5),
        github_p50_ms=percentile([s.github_ms for s in warm], 0.5),
        handler_p50_ms=percentile(handler, 0.5),
        handler_p99_ms=percentile(handler, 0.99),
        handler_share=statistics.fmean(handler) / statistics.fmean(totals),
        goal_met=percentile(handler, 0.99) <= GOAL_MS,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = [run(scenario, args.deliveries) for scenario in ("listed", "ephemeral")]
    if args.json:
        print(json.dumps([asdict(f) for f in figures], indent=2))
        return 0
    print(f"request -> StartInstances, {args.deliveries} deliveries per scenario (moto + fake GitHub on loopback)")
    print(
        f"{'scenario':<10} {'total p50':>10} {'total p99':>10} {'AWS p50':>8} {'GitHub p50':>11} "
        f"{'handler p50':>12} {'handler p99':>12} {'share':>6}  cold total"
    )
    for f in figures:
        print(
            f"{f.scenario:<10} {f.total_p50_ms:>8.1f}ms {f.total_p99_ms:>8.1f}ms {f.aws_p50_ms:>6.1f}ms "
            f"{f.github_p50_ms:>9.1f}ms {f.handler_p50_ms:>10.2f}ms {f.handler_p99_ms:>10.2f}ms "
            f"{f.handler_share:>6.1%}  {f.cold_total_ms:.1f}ms"
        )
    met = all(f.goal_met for f in figures)
    print(f"goal: handler p99 <= {GOAL_MS:.0f} ms beyond the AWS and GitHub calls: {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
