"""The fake GitHub API agrees with GitHub's OpenAPI description (@octokit/openapi, `make openapi`).

Every route of the fakes is driven the way the project's code calls it (components/github, tools/ops),
and every exchange is checked against the documented operation: the path and method exist, query
parameters are documented, request bodies and answers validate against their schemas (required fields
included), and every status code the fake answers is one GitHub documents for that operation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from components.github import scope
from components.github.provider import RunnerRegistrationProvider
from components.github.rest import GithubApiError, GithubClient
from tests.fakes.github_api import DEFAULT_CREDENTIAL, FakeGithub
from tests.fakes.github_workflows import FakeGithubWorkflows, ScriptedJob
from tests.fakes.openapi import Spec

REPO = "/repos/octo/app"
ORG = "/orgs/octo"
REPO_NAME = "octo/app"


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec.load()


@pytest.fixture
def fake() -> Iterator[FakeGithubWorkflows]:
    with FakeGithubWorkflows() as github:
        github.add_scope(REPO)
        github.add_scope(ORG)
        github.add_scope("/repos/" + REPO_NAME)
        yield github


def client(fake: FakeGithub, scope_path: str, token: str = DEFAULT_CREDENTIAL) -> GithubClient:
    return GithubClient(api_url=fake.api_url, token=token, scope_path=scope_path, sleep=lambda _s: None)


def drive_every_route(fake: FakeGithubWorkflows) -> None:
    """The calls the project makes, plus the error answers it handles."""
    provider = RunnerRegistrationProvider(sleep=lambda _s: None, poll_seconds=1)
    for scope_path in (REPO, ORG):
        props = {
            "api_url": fake.api_url,
            "scope_path": scope_path,
            "runner_name": "arm64-dev-a-0",
            "labels": ["self-hosted", "linux", "ARM64"],
            "ephemeral": False,
            "runner_group": "",
            "github_token": DEFAULT_CREDENTIAL,
            "busy_timeout_seconds": 5,
        }
        outs = provider.create(props).outs  # registration-token
        fake.register_runner(scope_path, "arm64-dev-a-0", outs["token"], labels=("self-hosted", "ARM64"))
        for i in range(105):  # a second page
            fake.add_runner(scope_path, f"other-{i}")
        provider.read("id", outs)  # list, paginated
        fake.set_busy(scope_path, "arm64-dev-a-0", requests_until_idle=2)
        runner = scope.find_runner(client(fake, scope_path), scope_path, "arm64-dev-a-0")
        assert runner is not None
        with pytest.raises(GithubApiError):  # 422: busy
            client(fake, scope_path).request("DELETE", f"{scope_path}/actions/runners/{runner['id']}")
        client(fake, scope_path).request("GET", f"{scope_path}/actions/runners/{runner['id']}")
        provider.delete("id", outs)  # waits, then 204
        client(fake, scope_path).request("POST", f"{scope_path}/actions/runners/remove-token")
        with pytest.raises(GithubApiError):  # 404: gone
            client(fake, scope_path).request("GET", f"{scope_path}/actions/runners/{runner['id']}")
    fake.add_runner_group(ORG, "arm64")
    jit = {**props, "scope_path": ORG, "ephemeral": True, "runner_group": "arm64", "runner_name": "arm64-dev-j-0"}
    provider.create(jit)  # runner-groups + generate-jitconfig
    provider.create({**jit, "scope_path": REPO, "runner_group": ""})  # a repository's JIT config
    with pytest.raises(GithubApiError):  # 409: the name exists
        scope.generate_jit_config(client(fake, ORG), ORG, "arm64-dev-j-0", ["self-hosted"], 1)
    fake.credentials = {"ghp_other"}
    with pytest.raises(GithubApiError):  # 401
        scope.list_runners(client(fake, REPO), REPO)
    fake.credentials = {DEFAULT_CREDENTIAL}
    fake.forbidden.add(ORG)
    with pytest.raises(GithubApiError):  # 403
        scope.mint_registration_token(client(fake, ORG), ORG)
    fake.forbidden.clear()
    # Workflow runs, as `make validate` follows them.
    repo = "/repos/" + REPO_NAME
    job = ScriptedJob(name="build", conclusion="success", runner_name="arm64-dev-a-0", seconds=30)
    fake.script_run(REPO_NAME, "build.yml", [job], polls_until_done=2)
    dispatched = client(fake, repo).request(
        "POST",
        f"{repo}/actions/workflows/build.yml/dispatches",
        body={"ref": "main", "inputs": {"image": "app"}, "return_run_details": True},
    )
    run_id = dispatched.data["workflow_run_id"]
    client(fake, repo).request("GET", f"{repo}/actions/workflows/build.yml/runs", query={"branch": "main"})
    for _ in range(2):
        client(fake, repo).request("GET", f"{repo}/actions/runs/{run_id}")
    client(fake, repo).request("GET", f"{repo}/actions/runs/{run_id}/jobs", query={"per_page": 100, "page": 1})


def test_every_exchange_with_the_fakes_conforms_to_githubs_description(spec: Spec, fake: FakeGithubWorkflows) -> None:
    drive_every_route(fake)
    problems = [
        problem
        for request, response in fake.exchanges
        for problem in spec.check_exchange(
            request.method, request.path, request.query, request.body, response.status, response.body
        )
    ]
    assert problems == [], "\n".join(sorted(set(problems)))


#: Values for the fakes' named route groups; each route is probed with every value its group accepts.
SAMPLES = {"scope": [REPO, ORG], "repo": [REPO_NAME], "id": ["1"], "run": ["1"], "workflow": ["build.yml"]}


def concrete_paths(pattern: str) -> list[str]:
    """Every sample path a route pattern of a fake accepts (one per combination of sample values)."""
    paths = [pattern]
    for group in re.findall(r"\(\?P<([a-z]+)>", pattern):
        expanded = []
        for path in paths:
            inner = re.search(rf"\(\?P<{group}>((?:[^()]|\([^()]*\))*)\)", path)
            assert inner is not None, path
            for value in SAMPLES[group]:
                if re.fullmatch(inner.group(1), value):
                    expanded.append(path[: inner.start()] + value + path[inner.end() :])
        paths = expanded
    return paths


def test_every_route_of_the_fakes_was_driven(spec: Spec, fake: FakeGithubWorkflows) -> None:
    drive_every_route(fake)
    driven = {(r.method, spec.operation(r.method, r.path).template) for r, _ in fake.exchanges}  # type: ignore[union-attr]
    for method, pattern, _handler in fake.routes():
        paths = concrete_paths(pattern)
        assert paths, pattern
        for path in paths:
            operation = spec.operation(method, path)
            assert operation is not None, f"{method} {path}: not in GitHub's description"
            assert (method, operation.template) in driven, f"{method} {operation.template}: never driven"
    statuses = {answer.status for _request, answer in fake.exchanges}
    assert statuses >= {200, 201, 204, 401, 403, 404, 409, 422}


def test_the_checker_catches_a_fake_that_drifts(spec: Spec) -> None:
    """The failing variants: a wrong status, a missing required field, an undocumented parameter."""
    runner = {"id": 1, "name": "r", "os": "Linux", "status": "online", "busy": False, "labels": []}
    good = spec.check_exchange("GET", REPO + "/actions/runners/1", {}, None, 200, runner)
    assert good == []
    assert spec.check_exchange("DELETE", REPO + "/actions/runners/1", {}, None, 409, {"message": "x"})
    assert spec.check_exchange("GET", REPO + "/actions/runners/1", {}, None, 200, {**runner, "busy": "no"})
    missing = {k: v for k, v in runner.items() if k != "labels"}
    assert spec.check_exchange("GET", REPO + "/actions/runners/1", {}, None, 200, missing)
    assert spec.check_exchange("GET", REPO + "/actions/runners", {"limit": "5"}, None, 200, {})
    assert spec.check_exchange("GET", REPO + "/actions/robots", {}, None, 200, {})
