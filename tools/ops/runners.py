"""status, wait-online and gc: the stack's runners as GitHub lists them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from components.github.rest import GithubClient, NotFoundError, UnprocessableError
from components.github.scope import is_busy_answer, list_runners
from tools.ops.stack import Stack


@dataclass(frozen=True)
class RunnerRow:
    name: str
    state: str  # online | busy | offline | missing
    labels: tuple[str, ...]
    expected: bool
    #: The runner version GitHub reports ("" when the runner is missing or GitHub did not say).
    version: str = ""
    #: GitHub's id of the runner (None when missing): what a delete addresses.
    runner_id: int | None = None


def runner_state(runner: dict[str, Any]) -> str:
    if runner.get("status") != "online":
        return "offline"
    return "busy" if runner.get("busy") else "online"


def survey(stack: Stack, client: GithubClient) -> list[RunnerRow]:
    """Expected runners (missing ones too) and any other runner GitHub lists under the stack's names."""
    listed = {
        r["name"]: r for r in stack.owned(list_runners(client, stack.config.github.scope_path, stack.runner_prefix))
    }
    rows = []
    for name in stack.expected_runners:
        runner = listed.pop(name, None)
        rows.append(RunnerRow(name, "missing", (), True) if runner is None else _row(runner, True))
    rows += [_row(runner, False) for _, runner in sorted(listed.items())]
    return rows


def _row(runner: dict[str, Any], expected: bool) -> RunnerRow:
    labels = tuple(str(label.get("name")) for label in runner.get("labels") or [])
    runner_id = runner.get("id")
    return RunnerRow(
        str(runner["name"]),
        runner_state(runner),
        labels,
        expected,
        version=str(runner.get("version") or ""),
        runner_id=int(runner_id) if isinstance(runner_id, int) else None,
    )


def render_status(stack: Stack, rows: list[RunnerRow], outputs: dict[str, Any] | None, outputs_note: str) -> str:
    config = stack.config
    pinned = config.runner.version
    lines = [
        f"## Stack `{stack.name}` — runners on {config.github.registration_url}",
        "",
        f"The stack installs runner version {pinned}; the Version column is what each runner reports to GitHub.",
        "",
        "| Runner | State | Version | Labels | In stack config |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        labels = ", ".join(row.labels) or "—"
        in_config = "yes" if row.expected else "no (leftover)"
        lines.append(f"| {row.name} | {row.state} | {row.version or '—'} | {labels} | {in_config} |")
    counts = {state: sum(r.state == state for r in rows) for state in ("online", "busy", "offline", "missing")}
    lines += ["", "Totals: " + ", ".join(f"{n} {state}" for state, n in counts.items()), ""]
    other = [f"{r.name} ({r.version})" for r in rows if r.version and r.version != pinned]
    if other:
        why = (
            "the runners disable self-update, so update runner.version"
            if config.runner.disable_update
            else "a runner updates itself when GitHub offers a newer release; pin that version in runner.version"
        )
        lines += [f"Not on version {pinned}: {', '.join(other)} — {why}.", ""]
    lines.append("### Pulumi stack outputs")
    lines.append("")
    if outputs is None:
        lines.append(outputs_note)
    elif not outputs:
        lines.append("(the stack has no outputs: not deployed?)")
    else:
        lines += ["| Output | Value |", "|---|---|"]
        lines += [f"| {key} | `{value}` |" for key, value in sorted(outputs.items())]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class WaitResult:
    online: bool
    waited_seconds: float
    #: name -> state for every expected runner not online (missing / offline).
    not_online: dict[str, str]


def wait_online(
    stack: Stack,
    client: GithubClient,
    timeout_seconds: float,
    poll_seconds: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> WaitResult:
    """Poll until every expected runner is online (busy counts as online) or the timeout passes."""
    start = clock()
    while True:
        rows = [r for r in survey(stack, client) if r.expected]
        not_online = {r.name: r.state for r in rows if r.state not in ("online", "busy")}
        waited = clock() - start
        if not not_online:
            return WaitResult(True, waited, {})
        if waited >= timeout_seconds:
            return WaitResult(False, waited, not_online)
        sleep(min(poll_seconds, max(0.0, timeout_seconds - waited)))


@dataclass(frozen=True)
class GcResult:
    deleted: list[str]
    kept: list[str]  # online or busy: in use, never deleted
    #: runner name -> GitHub's answer, for deletes GitHub refused for another reason than a running job.
    failed: dict[str, str] = field(default_factory=dict)


def gc(stack: Stack, client: GithubClient, include_stopped: bool = False, dry_run: bool = False) -> GcResult:
    """Remove the stack's runners that GitHub lists as offline.

    With `idleAction: stop` an offline runner of the stack's config may be a host stopped while idle
    that will start again, and a deleted runner cannot reconnect: those are kept unless
    `include_stopped` (after `pulumi destroy`, every offline runner is a leftover). A runner GitHub says
    is still running a job is kept; any other refusal is reported with GitHub's own message.
    """
    deleted, kept = [], []
    failed: dict[str, str] = {}
    may_be_stopped = stack.config.runner.idle_action == "stop" and not include_stopped
    scope_path = stack.config.github.scope_path
    for row in survey(stack, client):
        if row.state == "missing":
            continue
        if row.state != "offline" or (row.expected and may_be_stopped):
            kept.append(row.name)
            continue
        if dry_run:
            deleted.append(row.name)
            continue
        try:
            client.request("DELETE", f"{scope_path}/actions/runners/{row.runner_id}")
        except NotFoundError:
            pass  # gone between the list and the delete: nothing left to remove
        except UnprocessableError as error:
            if is_busy_answer(error):
                kept.append(row.name)
            else:
                failed[row.name] = str(error)
            continue
        deleted.append(row.name)
    return GcResult(deleted, kept, failed)
