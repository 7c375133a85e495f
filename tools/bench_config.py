"""Benchmark the refusal of hostile stack files: each case of the regression table
(tests/components/config/hostile.py) through `python -m tools.plan` in a fresh interpreter, as `make plan`
runs it. Prints per case the exit status, the wall time, whether a traceback appeared and the first
message; then the slowest case and its ratio to the interpreter-plus-import floor (`tools.plan --help`).

    python -m tools.bench_config

Goal (issue 14): every case exits 2, names the file and the key path, prints no traceback, under 5 s.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 5.0


def run(args: list[str]) -> tuple[int, float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tools.plan", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )
    return done.returncode, time.perf_counter() - start, done.stderr


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.components.config.hostile import CASES

    _, floor, _ = run(["--help"])
    print(f"floor (interpreter + tools.plan imports): {floor:.2f} s\n")
    print(f"{'case':32} {'class':17} exit  seconds  traceback  first message")
    worst = 0.0
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            stack_file = Path(tmp) / "Pulumi.hostile.yaml"
            stack_file.write_bytes(case.data)
            code, seconds, err = run(["--stack-file", str(stack_file)])
            traceback = "Traceback" in err
            first = next((line for line in err.splitlines() if line.startswith(str(stack_file))), "")
            named = f": {case.path}" in err and str(stack_file) in err
            ok = code == 2 and not traceback and named and seconds < GOAL_SECONDS
            failures += not ok
            worst = max(worst, seconds)
            message = first.removeprefix(str(stack_file))[:70]
            print(f"{case.id:32} {case.cls:17} {code:4}  {seconds:7.2f}  {'yes' if traceback else 'no':9}  {message}")
    print(f"\n{len(CASES)} cases, {failures} off goal; slowest {worst:.2f} s = {worst / floor:.2f}x the floor")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
