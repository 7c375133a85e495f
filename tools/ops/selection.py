"""Which stacks a workflow acts on: those a change touches, one named, or those whose TTL expired."""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tools.ops.stack import OpsError, StackProblem, read_each, stack_file, stack_names
from tools.ops.timestamps import parse_rfc3339

#: A change to any of these can change every stack's resources.
PROGRAM_PATTERNS = (
    "components/*",
    "cloud-init/*",
    "policy/*",
    "__main__.py",
    "Pulumi.yaml",
    "requirements*.txt",
)
NO_COMMIT = "0" * 40


def stacks_for_paths(paths: Iterable[str], stacks_dir: Path) -> list[str]:
    """Every stack if the program changed; otherwise the stacks whose files changed (and still exist)."""
    known = stack_names(stacks_dir)
    picked: set[str] = set()
    for path in paths:
        if any(fnmatch.fnmatch(path, pattern) for pattern in PROGRAM_PATTERNS):
            return known
        name = Path(path).name
        if Path(path).parent == stacks_dir and name.startswith("Pulumi.") and name.endswith(".yaml"):
            stack = name.removeprefix("Pulumi.").removesuffix(".yaml")
            if stack in known:
                picked.add(stack)
    return sorted(picked)


def changed_paths(base: str, head: str, cwd: Path | None = None) -> list[str] | None:
    """Files changed between two commits, or None when git cannot tell (new branch, shallow clone)."""
    if not base or base == NO_COMMIT:
        return None
    done = subprocess.run(
        ["git", "diff", "--name-only", f"{base}...{head}"], capture_output=True, text=True, cwd=cwd, check=False
    )
    if done.returncode != 0:
        return None
    return [line for line in done.stdout.splitlines() if line]


@dataclass(frozen=True)
class Selection:
    """The stacks a workflow should act on, and the stack files it had to skip (with the reason)."""

    stacks: list[str]
    problems: list[StackProblem] = field(default_factory=list)


def pick_stacks(stacks_dir: Path, only: str | None, base: str | None, head: str | None) -> Selection:
    """One named stack (as is: even a stack whose file is broken can be destroyed), or every stack a
    change touches / every stack — those walked are read, and a bad file is skipped and reported."""
    if only:
        if not stack_file(stacks_dir, only).exists():
            raise OpsError(f"no stack file {stack_file(stacks_dir, only)}")
        return Selection([only])
    if only is not None:
        names = stack_names(stacks_dir)
    else:
        paths = changed_paths(base or "", head or "HEAD")
        names = stack_names(stacks_dir) if paths is None else stacks_for_paths(paths, stacks_dir)
    configs, problems = read_each(stacks_dir, names)
    return Selection([name for name in names if name in configs], problems)


def reconciled_stacks(stacks_dir: Path) -> Selection:
    """Every stack up.yml's schedule runs `pulumi up --refresh` on: all but those with `reconcile: false`."""
    names = stack_names(stacks_dir)
    configs, problems = read_each(stacks_dir, names)
    return Selection([name for name in names if name in configs and configs[name].reconcile], problems)


def last_update(history: list[dict[str, Any]]) -> datetime | None:
    """When the stack was last deployed; None if never, or if its newest operation was a destroy."""
    if not history:
        return None
    newest = max(history, key=lambda e: e.get("startTime", ""))
    if newest.get("kind") == "destroy":
        return None
    updates = [e for e in history if e.get("kind") == "update" and e.get("result") == "succeeded"]
    if not updates:
        return None
    latest = max(updates, key=lambda e: e.get("startTime", ""))
    return parse_rfc3339(latest.get("endTime") or latest["startTime"])


def pulumi_history(stack: str) -> list[dict[str, Any]]:
    """`pulumi stack history --json` (newest entries; secrets not shown)."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise OpsError("the Pulumi CLI is needed to read stack history (install it, or use pulumi/actions)")
    done = subprocess.run(
        [pulumi, "stack", "history", "--json", "--stack", stack, "--page-size", "20", "--page", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return []  # no such stack in the backend: nothing deployed, nothing to destroy
    return json.loads(done.stdout or "[]")


def expired_stacks(
    stacks_dir: Path,
    now: datetime,
    history: Callable[[str], list[dict[str, Any]]] = pulumi_history,
) -> Selection:
    """Stacks with `arm64-runners:ttlHours` whose last update is at least that old.

    A stack whose file or history cannot be read is skipped and reported; the others are still judged,
    so one broken file never stops the scheduled destroy of the rest.
    """
    names = stack_names(stacks_dir)
    configs, problems = read_each(stacks_dir, names)
    expired = []
    for name in names:
        config = configs.get(name)
        if config is None or config.ttl_hours is None:
            continue
        try:
            updated = last_update(history(name))
        except OpsError:
            raise  # no Pulumi CLI: no stack can be judged
        except Exception as error:
            reason = f"its deployment history cannot be read ({type(error).__name__}: {error})"
            problems.append(StackProblem(str(stack_file(stacks_dir, name)), reason))
            continue
        if updated is not None and now - updated >= timedelta(hours=config.ttl_hours):
            expired.append(name)
    return Selection(expired, problems)
