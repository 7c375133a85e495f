"""Runner operations (list, find, delete, group lookup) against the fake API."""

from __future__ import annotations

import pytest

from components.github import scope
from components.github.rest import UnprocessableError
from tests.components.github.conftest import ORG, REPO
from tests.fakes.github_api import FakeGithub


def test_list_runners_reads_every_page_and_filters_by_prefix(github: FakeGithub, client_for) -> None:
    for i in range(230):
        github.add_runner(REPO, f"arm64-dev-a-{i}")
    github.add_runner(REPO, "someone-else")
    runners = scope.list_runners(client_for(), REPO, "arm64-dev-")
    assert len(runners) == 230
    assert len(github.requests_to("GET", REPO + "/actions/runners")) == 3
    assert {r["name"] for r in scope.list_runners(client_for(), REPO)} >= {"someone-else"}


def test_delete_finds_a_runner_beyond_the_first_page(github: FakeGithub, client_for) -> None:
    for i in range(150):
        github.add_runner(REPO, f"other-{i}")
    github.add_runner(REPO, "arm64-dev-a-0")
    assert scope.delete_runner(client_for(), REPO, "arm64-dev-a-0") is True
    assert github.runner_names(REPO, "arm64-") == []
    assert len(github.runner_names(REPO, "other-")) == 150


def test_delete_of_an_absent_runner_is_success(github: FakeGithub, client_for) -> None:
    assert scope.delete_runner(client_for(), REPO, "arm64-dev-a-0") is False
    assert github.requests_to("DELETE", r".*") == []


def test_delete_that_races_with_github_removing_it_is_success(github: FakeGithub, client_for) -> None:
    github.add_runner(REPO, "arm64-dev-a-0")
    github.fail_next("DELETE", REPO + r"/actions/runners/\d+", 404, body={"message": "Not Found"})
    assert scope.delete_runner(client_for(), REPO, "arm64-dev-a-0") is False


def test_busy_runner_is_waited_for_then_deleted(github: FakeGithub, client_for, sleeps) -> None:
    github.add_runner(REPO, "arm64-dev-a-0")
    github.set_busy(REPO, "arm64-dev-a-0", requests_until_idle=2)
    assert scope.delete_runner(client_for(), REPO, "arm64-dev-a-0", poll_seconds=15) is True
    assert sleeps.calls == [15, 15]
    assert github.runner_names(REPO) == []


def test_runner_that_stays_busy_fails_clearly_after_the_bound(github: FakeGithub, client_for, sleeps) -> None:
    github.add_runner(REPO, "arm64-dev-a-0")
    github.set_busy(REPO, "arm64-dev-a-0", requests_until_idle=None)
    with pytest.raises(scope.RunnerBusyError) as caught:
        scope.delete_runner(client_for(), REPO, "arm64-dev-a-0", busy_timeout_seconds=100, poll_seconds=30)
    assert "still running a job" in str(caught.value) and "arm64-dev-a-0" in str(caught.value)
    assert sum(sleeps.calls) == 100
    assert github.runner_names(REPO) == ["arm64-dev-a-0"]


def test_runner_becoming_busy_between_list_and_delete_is_waited_for(github: FakeGithub, client_for, sleeps) -> None:
    github.add_runner(REPO, "arm64-dev-a-0")
    github.fail_next(
        "DELETE",
        REPO + r"/actions/runners/\d+",
        422,
        body={"message": 'Bad request - Runner "arm64-dev-a-0" is still running a job"'},
    )
    assert scope.delete_runner(client_for(), REPO, "arm64-dev-a-0", poll_seconds=10) is True
    assert sleeps.calls == [10]


def test_another_422_on_delete_fails_with_githubs_own_message_and_no_wait(
    github: FakeGithub, client_for, sleeps
) -> None:
    """GitHub documents 422 on this endpoint as "Validation failed, or the endpoint has been spammed"."""
    github.add_runner(REPO, "arm64-dev-a-0")
    github.fail_next("DELETE", REPO + r"/actions/runners/\d+", 422, body={"message": "Validation Failed"})
    with pytest.raises(UnprocessableError, match="Validation Failed") as refused:
        scope.delete_runner(client_for(), REPO, "arm64-dev-a-0", poll_seconds=10)
    assert refused.value.github_message == "Validation Failed" and sleeps.calls == []
    assert github.runner_names(REPO) == ["arm64-dev-a-0"]


def test_a_jit_config_for_a_slot_whose_name_is_taken_replaces_the_leftover(github: FakeGithub, client_for) -> None:
    github.add_runner(ORG, "arm64-dev-j-0")  # e.g. an ephemeral runner that never got its job
    jit = scope.generate_jit_config_for_slot(
        client_for(ORG), ORG, "arm64-dev-j-0", ["self-hosted"], 1, busy_timeout_seconds=0
    )
    assert github.runner_names(ORG) == ["arm64-dev-j-0"] and jit.runner_id != 0
    assert len(github.requests_to("POST", ORG + "/actions/runners/generate-jitconfig")) == 2


def test_runner_group_defaults_to_id_1_without_asking(github: FakeGithub, client_for) -> None:
    assert scope.resolve_runner_group_id(client_for(ORG), ORG, None) == 1
    assert scope.resolve_runner_group_id(client_for(REPO), REPO, "ignored-for-repos") == 1
    assert github.requests == []


def test_runner_group_is_resolved_by_name(github: FakeGithub, client_for) -> None:
    github.add_runner_group(ORG, "other")
    wanted = github.add_runner_group(ORG, "arm64")
    assert scope.resolve_runner_group_id(client_for(ORG), ORG, "arm64") == wanted


def test_missing_runner_group_lists_the_existing_ones(github: FakeGithub, client_for) -> None:
    github.add_runner_group(ORG, "other")
    with pytest.raises(scope.GithubApiError) as caught:
        scope.resolve_runner_group_id(client_for(ORG), ORG, "arm64")
    assert "'arm64' does not exist in octo" in str(caught.value)
    assert "Default, other" in str(caught.value)
