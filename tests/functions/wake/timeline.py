"""Seven simulated days of queued jobs against a 3-runner pool with `idleAction: stop`.

The real handler runs on moto with a simulated clock; around it, a small model of what the rest of the
system does:
- GitHub: a job waits in a queue until an online, idle runner takes it (any runner of the pool);
- a started instance comes online BOOT_SECONDS later; on that boot it reads and deletes its hand-off
  parameter if there is one and registers from it (the bootstrap's every-boot check);
- the idle watchdog powers an instance off (EC2 StopInstances) after IDLE_TIMEOUT_SECONDS without a job.
One runner starts out unknown to GitHub (removed after 14 days offline): its first start must hand it a
new registration. Invariant checked at every event: while a job waits, some instance is up or booting
(no job is ever stranded behind stopped runners).

    python -m tests.functions.wake.timeline      # prints starts, stops, idle hours, waits
"""

from __future__ import annotations

import heapq
import itertools
import random
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from functions.wake.settings import PoolSpec
from tests.functions.wake.world import LABELS, SCOPE, World, runner_name, wake_world

DAYS = 7
RUNNERS = 3
BOOT_SECONDS = 90
IDLE_TIMEOUT_SECONDS = 30 * 60
#: 2026-01-01T00:00:00Z, a Thursday: the week covers two working days, a weekend and three more.
T0 = 1_767_225_600
SEED = 13


@dataclass(order=True)
class Job:
    queued_at: float
    job_id: int
    duration: float = field(compare=False)
    started_at: float | None = field(default=None, compare=False)


@dataclass
class Runner:
    name: str
    instance_id: str
    up: bool = False  # instance started (booting or online)
    online: bool = False
    job: Job | None = None
    idle_since: float = 0.0
    up_since: float = 0.0
    busy_seconds: float = 0.0
    up_seconds: float = 0.0


@dataclass
class Report:
    jobs: int
    deliveries: int
    starts: int
    stops: int
    reregistrations: int
    up_hours: float
    busy_hours: float
    idle_hours: float
    always_on_hours: float
    waits: list[float]
    unstarted: int

    def lines(self) -> list[str]:
        waits = sorted(self.waits)
        p95 = waits[int(0.95 * (len(waits) - 1))] if waits else 0.0
        return [
            f"{DAYS} days, {RUNNERS} runners, idle timeout {IDLE_TIMEOUT_SECONDS // 60} min, boot {BOOT_SECONDS} s",
            f"jobs {self.jobs} (deliveries {self.deliveries}), every job ran: {self.unstarted == 0}",
            f"starts {self.starts} (re-registered {self.reregistrations}), stops {self.stops}",
            f"instance hours up {self.up_hours:.1f} = busy {self.busy_hours:.1f} + idle {self.idle_hours:.1f} "
            f"(always-on would be {self.always_on_hours:.0f}: {self.up_hours / self.always_on_hours:.0%})",
            f"wait for a runner: median {statistics.median(waits) if waits else 0:.0f} s, p95 {p95:.0f} s, "
            f"max {max(waits, default=0):.0f} s",
        ]


def schedule(rng: random.Random) -> list[Job]:
    """Working hours (Mon-Fri 08-19 UTC) ~4 jobs/hour, 15 % of them matrix bursts of 2-4; else 0.2/hour."""
    jobs: list[Job] = []
    ids = itertools.count(1)
    t = float(T0)
    while t < T0 + DAYS * 86400:
        day = (int((t - T0) // 86400) + 3) % 7  # T0 is a Thursday (Monday = 0)
        hour = (t - T0) % 86400 / 3600
        rate = 4.0 if day < 5 and 8 <= hour < 19 else 0.2
        t += rng.expovariate(rate / 3600)
        burst = rng.randint(2, 4) if rng.random() < 0.15 else 1
        jobs.extend(Job(t, next(ids), rng.uniform(120, 1500)) for _ in range(burst))
    return [j for j in jobs if j.queued_at < T0 + DAYS * 86400]


class Simulation:
    def __init__(self, world: World, clock: list[float], jobs: list[Job]) -> None:
        self.world, self.clock, self.jobs = world, clock, jobs
        ids = world.instances["pool"]
        self.runners = {i: Runner(runner_name("pool", n), i) for n, i in enumerate(ids)}
        self.events: list[tuple[float, int, str, Any]] = []
        self.seq = itertools.count()
        self.waiting: list[Job] = []
        self.deliveries = self.starts = self.stops = self.reregistrations = 0

    def at(self, when: float, kind: str, what: Any) -> None:
        heapq.heappush(self.events, (when, next(self.seq), kind, what))

    def run(self) -> Report:
        for job in self.jobs:
            self.at(job.queued_at, "queued", job)
        while self.events:
            when, _, kind, what = heapq.heappop(self.events)
            self.clock[0] = when
            getattr(self, f"on_{kind.replace('-', '_')}")(what)
            self.check_nothing_stranded()
        self.check_ec2_agrees()
        return self.report()

    def on_queued(self, job: Job) -> None:
        self.waiting.append(job)
        self.deliveries += 1
        answer = self.world.queued(LABELS, delivery=f"delivery-{job.job_id}", job_id=job.job_id)
        assert answer.status == 200, answer
        if answer.body["status"] == "started":
            runner = self.runners[answer.body["instance_id"]]
            assert not runner.up, f"{runner.name} was started twice"
            runner.up, runner.up_since = True, self.clock[0]
            self.starts += 1
            self.reregistrations += bool(answer.body.get("reregistered"))
            self.at(self.clock[0] + BOOT_SECONDS, "online", runner)
        if self.deliveries % 10 == 0:
            self.check_ec2_agrees()
        self.assign()

    def on_online(self, runner: Runner) -> None:
        """The bootstrap on this boot: a hand-off present means register again from it, then delete it."""
        token = self.world.handoff(runner.name)
        if token is not None:
            self.world.ssm.delete_parameter(Name=_handoff(runner.name))
            self.world.github.register_runner(SCOPE, runner.name, token, labels=LABELS)
        assert runner.name in self.world.github.runner_names(SCOPE), f"{runner.name} came up unregistered"
        runner.online, runner.idle_since = True, self.clock[0]
        self.at(self.clock[0] + IDLE_TIMEOUT_SECONDS, "idle-check", (runner, self.clock[0]))
        self.assign()

    def on_done(self, runner: Runner) -> None:
        assert runner.job is not None
        runner.busy_seconds += self.clock[0] - (runner.job.started_at or 0)
        runner.job, runner.idle_since = None, self.clock[0]
        self.at(self.clock[0] + IDLE_TIMEOUT_SECONDS, "idle-check", (runner, self.clock[0]))
        self.assign()

    def on_idle_check(self, what: tuple[Runner, float]) -> None:
        runner, since = what
        if runner.online and runner.job is None and runner.idle_since == since:
            self.world.stop([runner.instance_id])  # the watchdog's power-off; the instance stops
            runner.up_seconds += self.clock[0] - runner.up_since
            runner.up = runner.online = False
            self.stops += 1

    def assign(self) -> None:
        """GitHub hands the oldest waiting job to an idle online runner."""
        self.waiting.sort()
        for runner in self.runners.values():
            if not self.waiting:
                return
            if runner.online and runner.job is None:
                job = self.waiting.pop(0)
                job.started_at, runner.job = self.clock[0], job
                self.at(self.clock[0] + job.duration, "done", runner)

    def check_nothing_stranded(self) -> None:
        if self.waiting:
            assert any(r.up for r in self.runners.values()), (
                f"t={self.clock[0] - T0:.0f}s: {len(self.waiting)} job(s) wait and every runner is stopped"
            )

    def check_ec2_agrees(self) -> None:
        """What the model says is up is what EC2 says is pending/running (checked every 10 deliveries)."""
        assert set(self.world.started()) == {i for i, r in self.runners.items() if r.up}, "EC2 and the model disagree"

    def report(self) -> Report:
        end = self.clock[0]
        for runner in self.runners.values():
            if runner.up:
                runner.up_seconds += end - runner.up_since
        up = sum(r.up_seconds for r in self.runners.values()) / 3600
        busy = sum(r.busy_seconds for r in self.runners.values()) / 3600
        return Report(
            jobs=len(self.jobs),
            deliveries=self.deliveries,
            starts=self.starts,
            stops=self.stops,
            reregistrations=self.reregistrations,
            up_hours=up,
            busy_hours=busy,
            idle_hours=up - busy,
            always_on_hours=RUNNERS * (end - T0) / 3600,
            waits=[j.started_at - j.queued_at for j in self.jobs if j.started_at is not None],
            unstarted=sum(1 for j in self.jobs if j.started_at is None),
        )


def _handoff(runner: str) -> str:
    from tests.functions.wake.world import handoff_name

    return handoff_name(runner)


def simulate(seed: int = SEED) -> Iterator[Report]:
    clock = [float(T0)]
    jobs = schedule(random.Random(seed))
    with wake_world([PoolSpec("pool", LABELS, RUNNERS)], clock=lambda: clock[0]) as world:
        forgotten = runner_name("pool", RUNNERS - 1)  # GitHub removed it: offline for more than 14 days
        with world.github.lock:
            world.github.runners[SCOPE] = {
                k: r for k, r in world.github.runners[SCOPE].items() if r["name"] != forgotten
            }
        yield Simulation(world, clock, jobs).run()


def main() -> None:
    for report in simulate():
        print("\n".join(report.lines()))


if __name__ == "__main__":
    main()
