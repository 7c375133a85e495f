"""Which stacks a workflow acts on: those a change touches, one named, or those whose TTL expired."""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from components.config import ConfigError, load_stack_file
from tools.ops.stack import OpsError, stack_file, stack_names

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


def pick_stacks(stacks_dir: Path, only: str | None, base: str | None, head: str | None) -> list[str]:
    if only is not None:
        if not only:
            return stack_names(stacks_dir)
        if not stack_file(stacks_dir, only).exists():
            raise OpsError(f"no stack file {stack_file(stacks_dir, only)}")
        return [only]
    paths = changed_paths(base or "", head or "HEAD")
    return stack_names(stacks_dir) if paths is None else stacks_for_paths(paths, stacks_dir)


HISTORY_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


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
    stamp = latest.get("endTime") or latest["startTime"]
    return datetime.strptime(stamp, HISTORY_TIME).replace(tzinfo=UTC)


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
    warn: Callable[[str], None] = print,
) -> list[str]:
    """Stacks with `arm64-runners:ttlHours` whose last update is at least that old."""
    expired = []
    for stack in stack_names(stacks_dir):
        try:
            ttl = load_stack_file(stack_file(stacks_dir, stack)).ttl_hours
        except ConfigError as error:
            warn(f"skipping {stack}: its stack file is invalid ({len(error.problems)} problem(s))")
            continue
        if ttl is None:
            continue
        updated = last_update(history(stack))
        if updated is not None and now - updated >= timedelta(hours=ttl):
            expired.append(stack)
    return expired
