"""Parsing what the guest left behind: the stand-in runner's call records, probe snapshots,
and the console's READY/FAILED report lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .disk import list_dir, read_text
from .scenarios import ScenarioResult

RUNNER_ROOT = "/opt/actions-runner"
CALLS_DIR = f"{RUNNER_ROOT}/_fake/calls"
REPORT = re.compile(r"arm64-runner: (READY|FAILED|IDLE)\b(.*)$")


@dataclass(frozen=True)
class Call:
    """One invocation of a stand-in runner entry point (tests/fixtures/fake-runner)."""

    file: str
    script: str
    uid: int
    user: str
    args: tuple[str, ...]
    env_names: frozenset[str]
    fields: dict[str, str]


def parse_call(file: str, text: str) -> Call:
    args: list[str] = []
    env: set[str] = set()
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "arg":
            args.append(value)
        elif key == "env":
            env.add(value)
        else:
            fields[key] = value
    return Call(file, fields["script"], int(fields["uid"]), fields["user"], tuple(args), frozenset(env), fields)


def calls(result: ScenarioResult, script: str | None = None) -> list[Call]:
    """Every recorded call, in the order they happened (file names start with epoch ns)."""
    names = sorted(list_dir(result.disk, CALLS_DIR) or [])
    found = []
    for name in names:
        if name.endswith(".partial"):
            continue  # a record being written when the guest stopped (fake-record.sh renames it when done)
        text = read_text(result.disk, f"{CALLS_DIR}/{name}")
        if text is None:
            continue
        call = parse_call(name, text)
        if script is None or call.script == script:
            found.append(call)
    return found


def report_lines(console: str) -> list[tuple[str, str]]:
    """(kind, rest) of each distinct `arm64-runner: READY|FAILED|IDLE ...` console report, in order.

    A report reaches the console twice — written to /dev/console, and echoed by cloud-init
    (runcmd output is teed to the console, prefixed `cloud-init[pid]:`) — so exact repeats
    count once.
    """
    found: list[tuple[str, str]] = []
    for line in console.splitlines():
        match = REPORT.search(line)
        if match:
            report = (match.group(1), match.group(2).strip())
            if report not in found:
                found.append(report)
    return found


def flag_value(args: tuple[str, ...], flag: str) -> str | None:
    if flag not in args:
        return None
    index = args.index(flag)
    return args[index + 1] if index + 1 < len(args) else None


def service_states(result: ScenarioResult, boot_index: int, label: str) -> dict[str, dict[str, str]]:
    """unit -> {"enabled": ..., "active": ...} from the probe's runner-services.txt."""
    text = result.snapshot(boot_index, label, "runner-services.txt") or ""
    states: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        unit, *pairs = line.split()
        states[unit] = dict(pair.split("=", 1) for pair in pairs)
    return states
