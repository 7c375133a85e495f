"""Workflow dispatch, runs and jobs on top of the fake GitHub API (tests/fakes/github_api.py).

    with FakeGithubWorkflows() as github:
        github.add_scope("/repos/octo/app")
        github.script_run("octo/app", "build.yml", jobs=[ScriptedJob("build", "success", "arm64-dev-a-0")],
                          polls_until_done=2)
        # POST …/actions/workflows/build.yml/dispatches creates the run (queued); each GET of the run
        # moves it on (in_progress, then completed after `polls_until_done` reads); jobs follow.

`return_run_details=False` makes dispatch answer 204 like servers without run details, so clients
must find the run through the workflow's run list. `polls_until_done=None` keeps the run in progress.
`stamp` writes the timestamps of runs and jobs (default `2026-11-27T12:00:00Z`; any RFC 3339 spelling).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.github_api import FakeGithub, FakeRequest, FakeResponse, Handler

REPO = r"/repos/(?P<repo>[^/]+/[^/]+)"
EPOCH = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ScriptedJob:
    name: str
    conclusion: str  # success | failure | cancelled | skipped
    runner_name: str | None
    seconds: int = 60
    labels: tuple[str, ...] = ("self-hosted", "linux", "ARM64")


@dataclass
class ScriptedRun:
    jobs: list[ScriptedJob]
    polls_until_done: int | None = 1


@dataclass
class FakeRun:
    id: int
    repo: str
    workflow: str
    ref: str
    inputs: dict[str, Any]
    script: ScriptedRun
    created: datetime
    polls: int = 0
    status: str = "queued"
    conclusion: str | None = None
    dispatch_body: dict[str, Any] = field(default_factory=dict)


class FakeGithubWorkflows(FakeGithub):
    def __init__(
        self,
        *args: Any,
        return_run_details: bool = True,
        stamp: Callable[[datetime], str] = _stamp,
        **kwargs: Any,
    ) -> None:
        self.return_run_details = return_run_details
        self.stamp = stamp
        #: (repo, workflow file) -> what the next dispatched run will do.
        self.scripts: dict[tuple[str, str], ScriptedRun] = {}
        self.runs: dict[int, FakeRun] = {}
        self._next_run_id = 7000
        super().__init__(*args, **kwargs)

    def script_run(self, repo: str, workflow: str, jobs: list[ScriptedJob], polls_until_done: int | None = 1) -> None:
        with self.lock:
            self.scripts[(repo, workflow)] = ScriptedRun(jobs, polls_until_done)

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            *super().routes(),
            ("POST", REPO + r"/actions/workflows/(?P<workflow>[^/]+)/dispatches", self._dispatch_workflow),
            ("GET", REPO + r"/actions/workflows/(?P<workflow>[^/]+)/runs", self._list_runs),
            ("GET", REPO + r"/actions/runs/(?P<run>\d+)", self._get_run),
            ("GET", REPO + r"/actions/runs/(?P<run>\d+)/jobs", self._list_jobs),
        ]

    # ---------------------------------------------------------------- handlers
    def _dispatch_workflow(self, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
        body = request.body or {}
        script = self.scripts.get((match["repo"], match["workflow"]))
        if script is None:
            return FakeResponse(404, {"message": "Not Found"})
        if not body.get("ref"):
            return FakeResponse(422, {"message": 'Invalid request. "ref" wasn\'t supplied.'})
        inputs = body.get("inputs") or {}
        if len(inputs) > 25 or not all(isinstance(v, str) for v in inputs.values()):
            return FakeResponse(422, {"message": "Invalid inputs"})
        self._next_run_id += 1
        run = FakeRun(
            id=self._next_run_id,
            repo=match["repo"],
            workflow=match["workflow"],
            ref=body["ref"],
            inputs=dict(inputs),
            script=script,
            created=EPOCH + timedelta(minutes=len(self.runs)),
            dispatch_body=dict(body),
        )
        self.runs[run.id] = run
        if self.return_run_details and body.get("return_run_details"):
            return FakeResponse(
                200,
                {
                    "workflow_run_id": run.id,
                    "run_url": f"{self.api_url}/repos/{run.repo}/actions/runs/{run.id}",
                    "html_url": self._html(run),
                },
            )
        return FakeResponse(204)

    def _html(self, run: FakeRun) -> str:
        return f"https://github.example/{run.repo}/actions/runs/{run.id}"

    def _advance(self, run: FakeRun) -> None:
        run.polls += 1
        done_after = run.script.polls_until_done
        if done_after is not None and run.polls >= done_after:
            run.status = "completed"
            conclusions = [j.conclusion for j in run.script.jobs]
            run.conclusion = "failure" if any(c in ("failure", "cancelled") for c in conclusions) else "success"
        else:
            run.status = "in_progress"

    def _run_json(self, run: FakeRun) -> dict[str, Any]:
        elapsed = sum(j.seconds for j in run.script.jobs) if run.status == "completed" else 0
        return {
            "id": run.id,
            "name": run.workflow,
            "event": "workflow_dispatch",
            "head_branch": run.ref,
            "status": run.status,
            "conclusion": run.conclusion,
            "html_url": self._html(run),
            "created_at": self.stamp(run.created),
            "run_started_at": self.stamp(run.created),
            "updated_at": self.stamp(run.created + timedelta(seconds=elapsed)),
        }

    def _list_runs(self, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
        runs = [r for r in self.runs.values() if r.repo == match["repo"] and r.workflow == match["workflow"]]
        if "branch" in request.query:
            runs = [r for r in runs if r.ref == request.query["branch"]]
        created = request.query.get("created", "")
        if created.startswith(">="):
            since = datetime.strptime(created[2:], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            runs = [r for r in runs if r.created >= since]
        runs.sort(key=lambda r: r.created, reverse=True)
        return FakeResponse(200, {"total_count": len(runs), "workflow_runs": [self._run_json(r) for r in runs]})

    def _get_run(self, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
        run = self.runs.get(int(match["run"]))
        if run is None or run.repo != match["repo"]:
            return FakeResponse(404, {"message": "Not Found"})
        if run.status != "completed":
            self._advance(run)
        return FakeResponse(200, self._run_json(run))

    def _list_jobs(self, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
        run = self.runs.get(int(match["run"]))
        if run is None or run.repo != match["repo"]:
            return FakeResponse(404, {"message": "Not Found"})
        per_page = min(int(request.query.get("per_page", 30)), 100)
        page = int(request.query.get("page", 1))
        jobs = []
        start = run.created
        for number, job in enumerate(run.script.jobs, start=1):
            done = run.status == "completed"
            jobs.append(
                {
                    "id": run.id * 100 + number,
                    "run_id": run.id,
                    "name": job.name,
                    "status": "completed" if done else "in_progress",
                    "conclusion": job.conclusion if done else None,
                    "runner_name": job.runner_name,
                    "labels": list(job.labels),
                    "started_at": self.stamp(start),
                    "completed_at": self.stamp(start + timedelta(seconds=job.seconds)) if done else None,
                }
            )
            start += timedelta(seconds=job.seconds)
        chunk = jobs[(page - 1) * per_page : page * per_page]
        return FakeResponse(200, {"total_count": len(jobs), "jobs": chunk})
