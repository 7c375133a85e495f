"""Measure how many dynamic resources one Pulumi program can register before the SDK fails.

Pulumi's Python SDK serializes each dynamic resource's provider with dill, and every serialization wraps
`pickle._Pickler._batch_setitems` once more without unwrapping it (pulumi/dynamic/dynamic.py,
`serialize_provider`). After about a thousand dynamic resources in one process, pickling a provider's
attributes recurses through every wrapper and raises RecursionError. components/config/limits.py caps runners per
pool and per stack well below the figure this prints, so re-run it after a Pulumi SDK upgrade:

    python -m tools.mockengine.ceiling [--low 500] [--high 1200]

Each probe is a fresh interpreter (as `pulumi up` runs the program) registering N dynamic resources
(ProbeProvider below) under Pulumi's mocks; a bisection finds the largest N that plans.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic

ROOT = Path(__file__).resolve().parents[2]


class ProbeProvider(pulumi.dynamic.ResourceProvider):
    """A provider with instance attributes, like the project's (pickled by reference to this module,
    its attribute dict through the wrapped `_batch_setitems`)."""

    def __init__(self) -> None:
        self.poll_seconds = 5.0
        self.timeout_seconds = 600

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult("probe", props)


class ProbeResource(pulumi.dynamic.Resource):
    def __init__(self, name: str) -> None:
        super().__init__(ProbeProvider(), name, {"value": name})


_PROBE = """
import asyncio, sys
import pulumi
from tools.mockengine.ceiling import ProbeResource

class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        return f"{args.name}-id", dict(args.inputs)
    def call(self, args):
        return {}

count = int(sys.argv[1])
asyncio.set_event_loop(asyncio.new_event_loop())
pulumi.runtime.set_mocks(Mocks(), project="arm64-runners", stack="ceiling", preview=True)

@pulumi.runtime.test
def program():
    made = [ProbeResource(f"r-{i}") for i in range(count)]
    return pulumi.Output.all(*[r.urn for r in made])

try:
    program()
except RecursionError:
    print("RecursionError")
    sys.exit(3)
print("ok")
"""


def probe(count: int) -> tuple[bool, float, str]:
    """(planned, seconds, last line of output) for a program with `count` dynamic resources."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(count)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode == 0, time.perf_counter() - start, lines[-1] if lines else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--low", type=int, default=500, help="a count known to plan")
    parser.add_argument("--high", type=int, default=1200, help="a count known to fail")
    args = parser.parse_args(argv)
    low, high = args.low, args.high
    for count in (low, high):
        planned, seconds, last = probe(count)
        print(f"{count:5d} dynamic resources: {'plans' if planned else 'fails'} ({seconds:.1f} s) {last}")
        if planned != (count == low):
            print("the bounds do not bracket the ceiling; widen --low/--high", file=sys.stderr)
            return 1
    while high - low > 1:
        middle = (low + high) // 2
        planned, seconds, last = probe(middle)
        print(f"{middle:5d} dynamic resources: {'plans' if planned else 'fails'} ({seconds:.1f} s) {last}")
        low, high = (middle, high) if planned else (low, middle)
    print(f"ceiling: {low} dynamic resources plan, {high} fail (python {sys.version.split()[0]}, pulumi {_pulumi()})")
    return 0


def _pulumi() -> str:
    from importlib.metadata import version

    return version("pulumi")


if __name__ == "__main__":
    sys.exit(main())
