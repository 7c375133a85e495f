"""Runner operations on one scope (a repository or an organization), shared by the dynamic provider
and the ops CLI. `scope_path` is `GithubTarget.scope_path`: `/repos/{owner}/{repo}` or `/orgs/{org}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.github.rest import (
    GithubApiError,
    GithubClient,
    NotFoundError,
    UnprocessableError,
)

PAGE_SIZE = 100
#: The group every repository runner and every org runner without a group belongs to.
DEFAULT_RUNNER_GROUP_ID = 1


class RunnerBusyError(GithubApiError):
    """The runner kept running a job for longer than the bounded wait."""


#: What GitHub answers (422) when asked to delete a runner that is running a job: `Bad request - Runner
#: "<name>" is still running a job` (the wording actions-runner-controller quotes and relies on). GitHub's
#: OpenAPI description documents 422 on this endpoint more broadly, "Validation failed, or the endpoint has
#: been spammed", so a 422 counts as busy only when it says so.
BUSY_ANSWER = "still running a job"


def is_busy_answer(error: GithubApiError) -> bool:
    """Whether GitHub refused a runner's delete because the runner is running a job."""
    message = getattr(error, "github_message", "") or str(error)
    return error.status == 422 and BUSY_ANSWER in message.lower()


@dataclass(frozen=True)
class MintedToken:
    token: str
    expires_at: str


@dataclass(frozen=True)
class JitConfig:
    encoded_jit_config: str
    runner_id: int


def list_runners(
    client: GithubClient, scope_path: str, prefix: str = "", *, name: str | None = None
) -> list[dict[str, Any]]:
    """Every runner of the scope whose name starts with `prefix` (all pages).

    `name` asks GitHub for that runner only (the list endpoint's `name` filter: one call). A server that
    ignores the filter answers full pages, which are then walked like an unfiltered list."""
    runners: list[dict[str, Any]] = []
    page = 1
    while True:
        query: dict[str, Any] = {"per_page": PAGE_SIZE, "page": page}
        if name is not None:
            query["name"] = name
        answer = client.request("GET", f"{scope_path}/actions/runners", query=query)
        batch = (answer.data or {}).get("runners", [])
        runners.extend(r for r in batch if str(r.get("name", "")).startswith(prefix))
        if len(batch) < PAGE_SIZE:
            return runners
        page += 1


def find_runner(client: GithubClient, scope_path: str, name: str) -> dict[str, Any] | None:
    """The runner called `name`: usually one call, whatever the number of runners in the scope."""
    for runner in list_runners(client, scope_path, name, name=name):
        if runner.get("name") == name:
            return runner
    return None


def mint_registration_token(client: GithubClient, scope_path: str) -> MintedToken:
    answer = client.request("POST", f"{scope_path}/actions/runners/registration-token")
    return MintedToken(token=answer.data["token"], expires_at=answer.data["expires_at"])


def resolve_runner_group_id(client: GithubClient, scope_path: str, group: str | None) -> int:
    """The id of the org runner group called `group` (the default group when None)."""
    if not group or not scope_path.startswith("/orgs/"):
        return DEFAULT_RUNNER_GROUP_ID
    names: list[str] = []
    page = 1
    while True:
        answer = client.request(
            "GET",
            f"{scope_path}/actions/runner-groups",
            query={"per_page": PAGE_SIZE, "page": page},
        )
        batch = (answer.data or {}).get("runner_groups", [])
        for entry in batch:
            if entry.get("name") == group:
                return int(entry["id"])
            names.append(str(entry.get("name")))
        if len(batch) < PAGE_SIZE:
            raise GithubApiError(
                f"runner group {group!r} does not exist in {scope_path[len('/orgs/') :]} "
                f"(existing: {', '.join(names) or 'none'}); create it first or fix runnerGroup"
            )
        page += 1


def generate_jit_config(
    client: GithubClient,
    scope_path: str,
    name: str,
    labels: list[str],
    runner_group_id: int,
) -> JitConfig:
    """A single-use runner config; GitHub registers the (offline) runner right away."""
    answer = client.request(
        "POST",
        f"{scope_path}/actions/runners/generate-jitconfig",
        body={"name": name, "labels": labels, "runner_group_id": runner_group_id},
    )
    return JitConfig(
        encoded_jit_config=answer.data["encoded_jit_config"],
        runner_id=int(answer.data["runner"]["id"]),
    )


def generate_jit_config_for_slot(
    client: GithubClient,
    scope_path: str,
    name: str,
    labels: list[str],
    runner_group_id: int,
    *,
    busy_timeout_seconds: float,
    poll_seconds: float = 15.0,
) -> JitConfig:
    """A JIT config for the runner slot `name`. A runner already holding the name (a create whose answer
    was lost, or an ephemeral runner that never got its job) belongs to this slot: it is removed first."""
    try:
        return generate_jit_config(client, scope_path, name, labels, runner_group_id)
    except UnprocessableError as conflict:
        if conflict.status != 409:
            raise
    delete_runner(client, scope_path, name, busy_timeout_seconds=busy_timeout_seconds, poll_seconds=poll_seconds)
    return generate_jit_config(client, scope_path, name, labels, runner_group_id)


def delete_runner(
    client: GithubClient,
    scope_path: str,
    name: str,
    *,
    busy_timeout_seconds: float = 600.0,
    poll_seconds: float = 15.0,
) -> bool:
    """Remove the runner called `name`; True if one was removed, False if it was already gone.

    A runner running a job is polled until idle for at most `busy_timeout_seconds` (counted as
    time slept), then RunnerBusyError says which runner and what to do.
    """
    waited = 0.0
    while True:
        runner = find_runner(client, scope_path, name)
        if runner is None:
            return False
        if not runner.get("busy"):
            try:
                client.request("DELETE", f"{scope_path}/actions/runners/{runner['id']}")
                return True
            except NotFoundError:
                return False
            except UnprocessableError as refused:
                if not is_busy_answer(refused):
                    raise  # another refusal: GitHub's own message says what
                # became busy between the list and the delete: wait like any busy runner
        if waited >= busy_timeout_seconds:
            raise RunnerBusyError(
                f"runner {name!r} in {scope_path} is still running a job after "
                f"{int(waited)} s; let the job finish or cancel it, then rerun (or remove the "
                "runner in the repository/organization settings, Actions > Runners)"
            )
        step = min(poll_seconds, busy_timeout_seconds - waited)
        client.sleep(step)
        waited += step
