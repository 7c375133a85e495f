"""Boot benchmark: what the runner bootstrap adds to a real arm64 boot, and how big its user-data is.

    python -m tools.bench_boot [--runs N] [--sizes-only] [--json]   (`make bench-boot`)

Boot time: two guests from the e2e image (tests/e2e), booted one after the other so they do not
compete for the host's cores, on the same QEMU settings as the e2e scenarios:
  - baseline: `#cloud-config {}` — measured from cloud-init's first stage starting
    (console line "running 'init-local'") to its "finished at" line;
  - bootstrap: the real rendered user-data (components.bootstrap, stand-in runner tarball,
    http hand-off from 127.0.0.1, package step off) — from the same start line to
    `arm64-runner: READY`.
Times are host monotonic stamps of serial-console lines (the console file is polled every 0.1 s).
Ratio = bootstrap / baseline; the goal is ≤ 1.25.

Sizes: every example stack under stacks/ is run through the real program under the mock engine
(tools.plan) and each resource's user-data is measured raw, gzipped (what EC2 counts against its
16 KiB limit when given `user_data_base64`) and gzip+base64 (what OCI metadata carries).
Goal from the issue: raw ≤ 8 KiB. Exit status 1 only if some user-data would exceed EC2's limit.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import shutil
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

SIZE_GOAL = 8 * 1024
EC2_LIMIT = 16 * 1024
RATIO_GOAL = 1.25
START_MARK = "running 'init-local'"
BASELINE_END_MARK = "finished at"
READY_MARK = "arm64-runner: READY"
STACKS_DIR = Path(__file__).resolve().parent.parent / "stacks"


@dataclass(frozen=True)
class BootTiming:
    run: int
    baseline_seconds: float
    bootstrap_seconds: float
    baseline_wall_seconds: float
    bootstrap_wall_seconds: float

    @property
    def ratio(self) -> float:
        return self.bootstrap_seconds / self.baseline_seconds


@dataclass(frozen=True)
class UserDataSize:
    stack: str
    resource: str
    raw_bytes: int
    gzip_bytes: int
    gzip_base64_bytes: int

    @property
    def within_goal(self) -> bool:
        """The issue's goal: the rendered document itself ≤ 8 KiB."""
        return self.raw_bytes <= SIZE_GOAL

    @property
    def fits_ec2(self) -> bool:
        """EC2 counts user-data before base64: the gzip bytes must stay ≤ 16 KiB."""
        return self.gzip_bytes <= EC2_LIMIT


def span(lines: list[tuple[float, str]], start: str, end: str) -> float:
    """Seconds between the first console line containing `start` and the first later one containing `end`."""
    begin = next((t for t, text in lines if start in text), None)
    if begin is None:
        raise ValueError(f"no console line contains {start!r}")
    finish = next((t for t, text in lines if t >= begin and end in text), None)
    if finish is None:
        raise ValueError(f"no console line after {start!r} contains {end!r}")
    return finish - begin


def user_data_sizes(stacks_dir: Path = STACKS_DIR) -> list[UserDataSize]:
    from tools.plan import plan, user_data_documents

    sizes = []
    for stack_file in sorted(stacks_dir.glob("Pulumi.*.yaml")):
        stack = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
        result = plan(stack_file)
        if result.error is not None:
            raise RuntimeError(f"{stack_file}: {result.error}")
        for resource, text in sorted(user_data_documents(result).items()):
            packed = gzip.compress(text.encode(), compresslevel=9, mtime=0)
            sizes.append(UserDataSize(stack, resource, len(text.encode()), len(packed), len(base64.b64encode(packed))))
    return sizes


def boot_timings(runs: int, workdir: Path) -> list[BootTiming]:
    from tests.e2e.image import ensure_image
    from tests.e2e.scenarios import Scenario, run_scenario
    from tests.e2e.stack import RUNNER_VERSION, bootstrap_user_data, empty_user_data, tarball_builder

    image = ensure_image()
    baseline = Scenario("bench-baseline", empty_user_data, tarball="none")
    bootstrap = Scenario("bench-bootstrap", bootstrap_user_data)
    timings = []
    for run in range(1, runs + 1):
        measured = {}
        for scenario, end in ((baseline, BASELINE_END_MARK), (bootstrap, READY_MARK)):
            result = run_scenario(
                image,
                scenario,
                workdir / f"{scenario.name}-{run}",
                runner_version=RUNNER_VERSION,
                build_tarball=tarball_builder(),
            )
            boot = result.boots[0]
            if boot.returncode != 0:
                raise RuntimeError(f"{scenario.name} run {run}: qemu exited {boot.returncode}; see {result.workdir}")
            lines = [(line.seconds, line.text) for line in boot.lines]
            measured[scenario.name] = (span(lines, START_MARK, end), boot.wall_seconds)
        timings.append(
            BootTiming(
                run,
                baseline_seconds=measured[baseline.name][0],
                bootstrap_seconds=measured[bootstrap.name][0],
                baseline_wall_seconds=measured[baseline.name][1],
                bootstrap_wall_seconds=measured[bootstrap.name][1],
            )
        )
    return timings


def render(timings: list[BootTiming], sizes: list[UserDataSize]) -> str:
    out = []
    if timings:
        out.append("cloud-init start -> done (s): baseline = start -> 'finished at', bootstrap = start -> READY")
        out.append(f"{'run':>3} {'baseline':>9} {'bootstrap':>10} {'ratio':>6} {'wall base':>10} {'wall boot':>10}")
        for t in timings:
            out.append(
                f"{t.run:>3} {t.baseline_seconds:>9.1f} {t.bootstrap_seconds:>10.1f} {t.ratio:>6.2f}"
                f" {t.baseline_wall_seconds:>10.1f} {t.bootstrap_wall_seconds:>10.1f}"
            )
        ratio = statistics.median(t.ratio for t in timings)
        verdict = "meets" if ratio <= RATIO_GOAL else "misses"
        out.append(f"median ratio {ratio:.2f} ({verdict} the {RATIO_GOAL:.2f}x goal)")
        out.append("")
    out.append(f"rendered user-data per example stack (goal: raw <= {SIZE_GOAL} B; EC2: gzip <= {EC2_LIMIT} B)")
    out.append(f"{'stack':<14} {'resource':<36} {'raw':>7} {'gzip':>6} {'gz+b64':>7} {'goal':>5} {'ec2':>4}")
    for s in sizes:
        goal = "ok" if s.within_goal else "MISS"
        ec2 = "ok" if s.fits_ec2 else "OVER"
        sizes_text = f"{s.raw_bytes:>7} {s.gzip_bytes:>6} {s.gzip_base64_bytes:>7}"
        out.append(f"{s.stack:<14} {s.resource:<36} {sizes_text} {goal:>5} {ec2:>4}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="boot pairs to measure (median ratio reported)")
    parser.add_argument("--sizes-only", action="store_true", help="skip the boots (seconds instead of minutes)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--keep", action="store_true", help="keep the guests' disks and consoles")
    args = parser.parse_args(argv)

    sizes = user_data_sizes()
    timings: list[BootTiming] = []
    if not args.sizes_only:
        workdir = Path(tempfile.mkdtemp(prefix="arm64-runners-bench-", dir="/var/tmp"))
        try:
            timings = boot_timings(args.runs, workdir)
        finally:
            if args.keep:
                print(f"guests kept in {workdir}", file=sys.stderr)
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        doc = {
            "boots": [{**asdict(t), "ratio": t.ratio} for t in timings],
            "sizes": [{**asdict(s), "within_goal": s.within_goal, "fits_ec2": s.fits_ec2} for s in sizes],
        }
        print(json.dumps(doc, indent=2))
    else:
        print(render(timings, sizes))
    # A measurement, not a gate: goal misses are printed; only a user-data EC2 would refuse fails.
    return 0 if all(s.fits_ec2 for s in sizes) else 1


if __name__ == "__main__":
    sys.exit(main())
