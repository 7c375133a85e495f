"""Benchmark the offline plan: time and peak memory per example stack and for a generated 100-runner
stack, each against the import floor of the provider SDK modules that stack loads.

    python -m tools.bench [--runs 3]

The floor is a fresh interpreter importing exactly the provider modules (`pulumi_aws.ec2.vpc`, …) the
plan of that stack imported, measured in the same run; the ratio is plan time / floor time (goals: ≤ 1.3× for
the examples, ≤ 2× for 100 runners). It also prints which cloud SDKs each stack loaded: a single-cloud
stack must not load the other cloud's SDK.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
STACKS = ROOT / "stacks"
_PROBE = """
import runpy, sys
sys.argv = ["tools.plan", "--stack-file", sys.argv[1], "--format", "json"]
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    try:
        runpy.run_module("tools.plan", run_name="__main__")
    except SystemExit:
        pass
mods = sorted(m for m in sys.modules if m.startswith(("pulumi_aws", "pulumi_oci", "pulumi_github")))
print(" ".join(mods))
"""


def run(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in MiB, stdout of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed")
    return elapsed, usage.ru_maxrss // 1024, out


def hundred_runner_stack(directory: Path) -> Path:
    base = yaml.safe_load((STACKS / "Pulumi.mixed.yaml").read_text())
    config = base["config"]
    config["arm64-runners:pools"] = [
        {"name": "graviton", "cloud": "aws", "count": 40, "instanceType": "t4g.large", "diskGb": 50},
        {"name": "large", "cloud": "aws", "count": 20, "instanceType": "c7g.xlarge", "diskGb": 100, "spot": True},
        {"name": "ampere", "cloud": "oci", "count": 20, "ocpus": 2, "memoryGb": 12, "diskGb": 50},
        {"name": "qemu", "cloud": "emulated", "count": 20, "instanceType": "c7a.large", "diskGb": 50},
    ]
    config["arm64-runners:oci"]["freeTier"] = False
    path = directory / "Pulumi.bench100.yaml"
    path.write_text(yaml.safe_dump(base))
    return path


def measure(stack_file: Path, runs: int) -> dict[str, object]:
    python = sys.executable
    plans = [run([python, "-c", _PROBE, str(stack_file)]) for _ in range(runs)]
    modules = plans[0][2].split()
    # Provider SDKs load their modules lazily: import every module the plan loaded, as the plan did.
    floor_code = f"import importlib, pulumi\nfor m in {modules!r}: importlib.import_module(m)"
    floors = [run([python, "-c", floor_code]) for _ in range(runs)]
    plan_s = statistics.median(p[0] for p in plans)
    floor_s = statistics.median(f[0] for f in floors)
    sdks = sorted({m.split(".")[0] for m in modules})
    return {
        "plan_s": plan_s,
        "floor_s": floor_s,
        "ratio": plan_s / floor_s,
        "peak_mib": max(p[1] for p in plans),
        "floor_mib": max(f[1] for f in floors),
        "sdks": sdks,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        files = [*sorted(STACKS.glob("Pulumi.*.yaml")), hundred_runner_stack(Path(tmp))]
        print(
            f"{'stack':<14} {'plan s':>7} {'floor s':>8} {'ratio':>6} {'goal':>5} {'peak MiB':>9} {'floor MiB':>10}  SDKs"
        )
        for path in files:
            name = path.name[7:-5]
            m = measure(path, args.runs)
            goal = 2.0 if name == "bench100" else 1.3
            print(
                f"{name:<14} {m['plan_s']:>7.2f} {m['floor_s']:>8.2f} {m['ratio']:>5.2f}x {goal:>4.1f}x "
                f"{m['peak_mib']:>9} {m['floor_mib']:>10}  {' '.join(m['sdks'])}"
            )  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
