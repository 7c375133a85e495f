"""validate: dispatch a workflow, follow its run, judge it, and write the Markdown report."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from components.github.rest import GithubClient
from tools.ops.runners import RunnerRow
from tools.ops.timestamps import parse_rfc3339

PAGE_SIZE = 100


@dataclass(frozen=True)
class Job:
    name: str
    status: str
    conclusion: str | None
    runner_name: str | None
    labels: tuple[str, ...]
    started_at: str | None
    completed_at: str | None

    @property
    def seconds(self) -> float | None:
        return _seconds_between(self.started_at, self.completed_at)


@dataclass
class Validation:
    """Everything the report shows; `go` and `reasons` are filled by `judge`."""

    stack: str
    repository: str
    workflow: str
    ref: str
    inputs: Mapping[str, str]
    runners: list[RunnerRow]
    run_id: int | None = None
    run_url: str = ""
    run_status: str = "not started"
    run_conclusion: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    jobs: list[Job] = field(default_factory=list)
    timed_out: bool = False
    go: bool = False
    reasons: list[str] = field(default_factory=list)


def _parse_time(value: str | None) -> datetime | None:
    """GitHub's timestamps (any RFC 3339 spelling); None when absent or unreadable (shown as "—")."""
    if not value:
        return None
    try:
        return parse_rfc3339(value)
    except ValueError:
        return None


def _seconds_between(start: str | None, end: str | None) -> float | None:
    first, last = _parse_time(start), _parse_time(end)
    return None if first is None or last is None else (last - first).total_seconds()


def dispatch(client: GithubClient, repository: str, workflow: str, ref: str, inputs: Mapping[str, str]) -> int | None:
    """Start the workflow; the run id when GitHub returns it (`return_run_details`), else None."""
    answer = client.request(
        "POST",
        f"/repos/{repository}/actions/workflows/{workflow}/dispatches",
        body={"ref": ref, "inputs": dict(inputs), "return_run_details": True},
    )
    if answer.status == 200 and isinstance(answer.data, dict) and answer.data.get("workflow_run_id"):
        return int(answer.data["workflow_run_id"])
    return None


def find_run(
    client: GithubClient,
    repository: str,
    workflow: str,
    ref: str,
    dispatched_at: datetime,
    *,
    timeout_seconds: float,
    poll_seconds: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> int | None:
    """For servers that answer the dispatch with 204: the newest dispatch run of `ref` created since."""
    start = clock()
    since = (dispatched_at.replace(microsecond=0)).strftime("%Y-%m-%dT%H:%M:%SZ")
    while True:
        answer = client.request(
            "GET",
            f"/repos/{repository}/actions/workflows/{workflow}/runs",
            query={"event": "workflow_dispatch", "branch": ref, "created": f">={since}", "per_page": 10},
        )
        runs = (answer.data or {}).get("workflow_runs", [])
        if runs:
            return int(max(runs, key=lambda r: r.get("created_at", ""))["id"])
        if clock() - start >= timeout_seconds:
            return None
        sleep(poll_seconds)


def follow(
    client: GithubClient,
    validation: Validation,
    *,
    timeout_seconds: float,
    poll_seconds: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> None:
    """Poll the run until it completes or the timeout passes; then fetch its jobs."""
    assert validation.run_id is not None
    start = clock()
    while True:
        run = client.request("GET", f"/repos/{validation.repository}/actions/runs/{validation.run_id}").data
        validation.run_url = run.get("html_url", "")
        validation.run_status = run.get("status", "unknown")
        validation.run_conclusion = run.get("conclusion")
        validation.created_at = run.get("run_started_at") or run.get("created_at")
        validation.updated_at = run.get("updated_at")
        if validation.run_status == "completed":
            break
        if clock() - start >= timeout_seconds:
            validation.timed_out = True
            break
        sleep(poll_seconds)
    validation.jobs = list_jobs(client, validation.repository, validation.run_id)


def list_jobs(client: GithubClient, repository: str, run_id: int) -> list[Job]:
    jobs: list[Job] = []
    page = 1
    while True:
        answer = client.request(
            "GET",
            f"/repos/{repository}/actions/runs/{run_id}/jobs",
            query={"per_page": PAGE_SIZE, "page": page, "filter": "latest"},
        )
        batch = (answer.data or {}).get("jobs", [])
        jobs += [
            Job(
                name=j.get("name", "?"),
                status=j.get("status", "unknown"),
                conclusion=j.get("conclusion"),
                runner_name=j.get("runner_name"),
                labels=tuple(j.get("labels") or ()),
                started_at=j.get("started_at"),
                completed_at=j.get("completed_at"),
            )
            for j in batch
        ]
        if len(batch) < PAGE_SIZE:
            return jobs
        page += 1


#: Job conclusions that do not count against the runner: skipped on purpose, or nothing to do.
PASSING = ("success", "skipped", "neutral")


def judge(validation: Validation, owns: Callable[[str], bool]) -> None:
    """Go only if the run completed successfully, no job failed, and the stack's runners did run jobs."""
    reasons: list[str] = []
    if validation.run_id is None:
        reasons.append("the dispatched run could not be found")
    elif validation.timed_out:
        reasons.append(f"the run did not complete before the timeout (last status: {validation.run_status})")
    elif validation.run_conclusion != "success":
        reasons.append(f"the run concluded {validation.run_conclusion or 'without a conclusion'}")
    for job in validation.jobs:
        if job.status == "completed" and job.conclusion not in PASSING:
            reasons.append(f"job '{job.name}' concluded {job.conclusion} on {job.runner_name or 'no runner'}")
        elif job.status != "completed":
            reasons.append(f"job '{job.name}' is still {job.status}")
    on_stack = [j for j in validation.jobs if j.runner_name and owns(j.runner_name)]
    if validation.run_id is not None and not on_stack:
        reasons.append(f"no job ran on a runner of stack {validation.stack}")
    offline = [r.name for r in validation.runners if r.expected and r.state in ("offline", "missing")]
    if offline:
        reasons.append("runners not online: " + ", ".join(offline))
    validation.reasons = reasons
    validation.go = not reasons


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def render_report(validation: Validation, generated_at: datetime) -> str:
    v = validation
    verdict = "GO" if v.go else "NO-GO"
    lines = [
        f"# Validation of stack `{v.stack}`: **{verdict}**",
        "",
        f"- Generated: {generated_at.strftime('%Y-%m-%d %H:%M:%S UTC')}",
        f"- Workflow: `{v.workflow}` on `{v.repository}` at `{v.ref}`",
        f"- Inputs: {', '.join(f'`{k}={val}`' for k, val in v.inputs.items()) or 'none'}",
        f"- Run: {v.run_url or v.run_id or 'not found'} — {v.run_status}"
        + (f", {v.run_conclusion}" if v.run_conclusion else ""),
        f"- Run duration: {_duration(_seconds_between(v.created_at, v.updated_at))}",
        "",
        "## Decision",
        "",
    ]
    if v.go:
        lines.append("GO: the run succeeded and every job passed on the stack's runners.")
    else:
        lines += [f"- {reason}" for reason in v.reasons]
    lines += ["", "## Runners of the stack", "", "| Runner | State | Labels |", "|---|---|---|"]
    lines += [f"| {r.name} | {r.state} | {', '.join(r.labels) or '—'} |" for r in v.runners]
    lines += ["", "## Jobs", ""]
    if not v.jobs:
        lines.append("No jobs were reported.")
    else:
        lines += ["| Job | Result | Runner | Labels | Duration |", "|---|---|---|---|---|"]
        for job in v.jobs:
            result = job.conclusion or job.status
            lines.append(
                f"| {job.name} | {result} | {job.runner_name or '—'} | {', '.join(job.labels) or '—'} | "
                f"{_duration(job.seconds)} |"
            )
    return "\n".join(lines) + "\n"


def utc_now() -> datetime:
    return datetime.now(UTC)
