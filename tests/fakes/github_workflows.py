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


#: The commit every dispatched run builds.
HEAD_SHA = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _repository(api_url: str, full_name: str) -> dict[str, Any]:
    """`owner/name` as GitHub's `minimal-repository` (its URL templates included)."""
    owner, name = full_name.split("/")
    api = f"{api_url}/repos/{full_name}"
    templated = {
        "archive_url": "/{archive_format}{/ref}",
        "assignees_url": "/assignees{/user}",
        "blobs_url": "/git/blobs{/sha}",
        "branches_url": "/branches{/branch}",
        "collaborators_url": "/collaborators{/collaborator}",
        "comments_url": "/comments{/number}",
        "commits_url": "/commits{/sha}",
        "compare_url": "/compare/{base}...{head}",
        "contents_url": "/contents/{+path}",
        "contributors_url": "/contributors",
        "deployments_url": "/deployments",
        "downloads_url": "/downloads",
        "events_url": "/events",
        "forks_url": "/forks",
        "git_commits_url": "/git/commits{/sha}",
        "git_refs_url": "/git/refs{/sha}",
        "git_tags_url": "/git/tags{/sha}",
        "hooks_url": "/hooks",
        "issue_comment_url": "/issues/comments{/number}",
        "issue_events_url": "/issues/events{/number}",
        "issues_url": "/issues{/number}",
        "keys_url": "/keys{/key_id}",
        "labels_url": "/labels{/name}",
        "languages_url": "/languages",
        "merges_url": "/merges",
        "milestones_url": "/milestones{/number}",
        "notifications_url": "/notifications{?since,all,participating}",
        "pulls_url": "/pulls{/number}",
        "releases_url": "/releases{/id}",
        "stargazers_url": "/stargazers",
        "statuses_url": "/statuses/{sha}",
        "subscribers_url": "/subscribers",
        "subscription_url": "/subscription",
        "tags_url": "/tags",
        "teams_url": "/teams",
        "trees_url": "/git/trees{/sha}",
    }
    user = f"{api_url}/users/{owner}"
    return {
        "id": 100_000 + sum(map(ord, full_name)),
        "node_id": f"R_{name}",
        "name": name,
        "full_name": full_name,
        "private": True,
        "fork": False,
        "description": None,
        "url": api,
        "html_url": f"https://github.example/{full_name}",
        **{key: api + suffix for key, suffix in templated.items()},
        "owner": {
            "login": owner,
            "id": 1,
            "node_id": f"O_{owner}",
            "type": "Organization",
            "site_admin": False,
            "gravatar_id": "",
            "url": user,
            "html_url": f"https://github.example/{owner}",
            "avatar_url": f"https://avatars.example/{owner}",
            **{
                key: user + suffix
                for key, suffix in {
                    "events_url": "/events{/privacy}",
                    "followers_url": "/followers",
                    "following_url": "/following{/other_user}",
                    "gists_url": "/gists{/gist_id}",
                    "organizations_url": "/orgs",
                    "received_events_url": "/received_events",
                    "repos_url": "/repos",
                    "starred_url": "/starred{/owner}{/repo}",
                    "subscriptions_url": "/subscriptions",
                }.items()
            },
        },
    }


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
        """A workflow run as GitHub's `workflow-run` schema has it (every required field)."""
        elapsed = sum(j.seconds for j in run.script.jobs) if run.status == "completed" else 0
        url = f"{self.api_url}/repos/{run.repo}/actions/runs/{run.id}"
        repository = _repository(self.api_url, run.repo)
        return {
            "id": run.id,
            "node_id": f"WFR_{run.id}",
            "name": run.workflow,
            "display_title": run.workflow,
            "run_number": run.id - 7000,
            "event": "workflow_dispatch",
            "head_branch": run.ref,
            "head_sha": HEAD_SHA,
            "path": f".github/workflows/{run.workflow}",
            "workflow_id": 1000 + sum(map(ord, run.workflow)),
            "status": run.status,
            "conclusion": run.conclusion,
            "url": url,
            "html_url": self._html(run),
            "jobs_url": f"{url}/jobs",
            "logs_url": f"{url}/logs",
            "check_suite_url": f"{self.api_url}/repos/{run.repo}/check-suites/{run.id}",
            "cancel_url": f"{url}/cancel",
            "rerun_url": f"{url}/rerun",
            "artifacts_url": f"{url}/artifacts",
            "workflow_url": f"{self.api_url}/repos/{run.repo}/actions/workflows/{run.workflow}",
            "pull_requests": [],
            "created_at": self.stamp(run.created),
            "run_started_at": self.stamp(run.created),
            "updated_at": self.stamp(run.created + timedelta(seconds=elapsed)),
            "head_commit": {
                "id": HEAD_SHA,
                "tree_id": HEAD_SHA[::-1],
                "message": "dispatched by make validate",
                "timestamp": self.stamp(run.created),
                "author": {"name": "octo", "email": "octo@example.com"},
                "committer": {"name": "octo", "email": "octo@example.com"},
            },
            "repository": repository,
            "head_repository": repository,
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
            job_id = run.id * 100 + number
            jobs.append(
                {
                    "id": job_id,
                    "node_id": f"CR_{job_id}",
                    "run_id": run.id,
                    "run_url": f"{self.api_url}/repos/{run.repo}/actions/runs/{run.id}",
                    "url": f"{self.api_url}/repos/{run.repo}/actions/jobs/{job_id}",
                    "html_url": f"{self._html(run)}/job/{job_id}",
                    "check_run_url": f"{self.api_url}/repos/{run.repo}/check-runs/{job_id}",
                    "head_sha": HEAD_SHA,
                    "head_branch": run.ref,
                    "workflow_name": run.workflow,
                    "name": job.name,
                    "status": "completed" if done else "in_progress",
                    "conclusion": job.conclusion if done else None,
                    "runner_id": 1000 + number if job.runner_name else None,
                    "runner_name": job.runner_name,
                    "runner_group_id": 1 if job.runner_name else None,
                    "runner_group_name": "Default" if job.runner_name else None,
                    "labels": list(job.labels),
                    "created_at": self.stamp(run.created),
                    "started_at": self.stamp(start),
                    "completed_at": self.stamp(start + timedelta(seconds=job.seconds)) if done else None,
                }
            )
            start += timedelta(seconds=job.seconds)
        chunk = jobs[(page - 1) * per_page : page * per_page]
        return FakeResponse(200, {"total_count": len(jobs), "jobs": chunk})
