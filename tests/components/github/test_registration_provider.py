"""RunnerRegistrationProvider create / diff / read / delete against the fake GitHub API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pulumi.dynamic
import pytest

from components.config.model import GithubTarget
from components.github.provider import REPLACE_ON, TOKEN_OVERRIDE_ENV, RunnerRegistrationProvider, still_usable
from components.github.rest import BadCredentialsError, GithubApiError
from components.github.scope import RunnerBusyError
from tests.components.github.conftest import ORG, REPO
from tests.fakes.github_api import DEFAULT_CREDENTIAL, FakeGithub, FakeRequest


def props_for(api_url: str, scope_path: str = REPO, **overrides: Any) -> dict[str, Any]:
    props = {
        "api_url": api_url,
        "scope_path": scope_path,
        "runner_name": "arm64-dev-a-0",
        "labels": ["self-hosted", "linux", "ARM64"],
        "ephemeral": False,
        "runner_group": "",
        "replacement_fingerprint": "fp-1",
        "github_token": DEFAULT_CREDENTIAL,
        "busy_timeout_seconds": 600,
        "__provider": "serialized-provider-blob",
    }
    props.update(overrides)
    return props


@pytest.fixture
def provider(sleeps) -> RunnerRegistrationProvider:
    return RunnerRegistrationProvider(sleep=sleeps, now=sleeps.now, poll_seconds=10)


def test_create_mints_a_repository_registration_token(github: FakeGithub, provider) -> None:
    result = provider.create(props_for(github.api_url))
    minted = github.tokens[-1]
    assert minted["scope"] == REPO and minted["kind"] == "registration"
    assert result.outs["token"] == minted["token"]
    assert result.outs["expires_at"] == minted["expires_at"]
    assert result.outs["runner_name"] == "arm64-dev-a-0"
    assert "__provider" not in result.outs
    assert result.id.startswith("arm64-dev-a-0-")
    assert [r.path for r in github.requests] == [REPO + "/actions/runners/registration-token"]


def test_create_mints_an_organization_registration_token(github: FakeGithub, provider) -> None:
    result = provider.create(props_for(github.api_url, ORG))
    assert github.tokens[-1]["scope"] == ORG
    assert result.outs["token"] == github.tokens[-1]["token"]


def test_create_against_enterprise_server_uses_the_api_v3_root(provider) -> None:
    with FakeGithub(api_prefix="/api/v3") as ghes:
        ghes.add_scope(REPO)
        target = GithubTarget(owner="octo", repository="app", base_url=ghes.base_url + "/")
        assert target.api_url == ghes.base_url + "/api/v3"
        result = provider.create(props_for(target.api_url, target.scope_path))
        assert result.outs["token"] == ghes.tokens[-1]["token"]
        # The registered token works for what config.sh does against that server.
        ghes.register_runner(REPO, "arm64-dev-a-0", result.outs["token"])
        assert ghes.runner_names(REPO) == ["arm64-dev-a-0"]


def test_ephemeral_create_generates_a_jit_config_in_the_default_group(github: FakeGithub, provider) -> None:
    result = provider.create(props_for(github.api_url, ephemeral=True))
    (jit_request,) = github.requests_to("POST", REPO + "/actions/runners/generate-jitconfig")
    assert jit_request.body == {
        "name": "arm64-dev-a-0",
        "labels": ["self-hosted", "linux", "ARM64"],
        "runner_group_id": 1,
    }
    assert result.outs["token"] == github.tokens[-1]["token"]
    assert github.tokens[-1]["kind"] == "jit"
    # GitHub registers a JIT runner at once: its id is known and delete can find it.
    assert github.runner_names(REPO) == ["arm64-dev-a-0"]
    assert result.outs["runner_id"] == next(iter(github.runners[REPO]))
    assert github.requests_to("POST", REPO + "/actions/runners/registration-token") == []


def test_ephemeral_create_replaces_a_leftover_runner_holding_the_name(github: FakeGithub, provider) -> None:
    """GitHub answers 409 when the name exists, e.g. after a create whose answer was lost."""
    leftover = github.add_runner(REPO, "arm64-dev-a-0")
    result = provider.create(props_for(github.api_url, ephemeral=True))
    assert len(github.requests_to("POST", REPO + "/actions/runners/generate-jitconfig")) == 2
    assert github.runner_names(REPO) == ["arm64-dev-a-0"]
    assert result.outs["runner_id"] != leftover["id"]


def test_ephemeral_create_does_not_remove_a_busy_namesake_beyond_its_timeout(github: FakeGithub, provider) -> None:
    github.add_runner(REPO, "arm64-dev-a-0", busy=True)
    github.set_busy(REPO, "arm64-dev-a-0", requests_until_idle=None)
    with pytest.raises(RunnerBusyError):
        provider.create(props_for(github.api_url, ephemeral=True, busy_timeout_seconds=20))
    assert github.runner_names(REPO) == ["arm64-dev-a-0"]


def test_ephemeral_org_runner_joins_its_runner_group(github: FakeGithub, provider) -> None:
    group_id = github.add_runner_group(ORG, "arm64")
    provider.create(props_for(github.api_url, ORG, ephemeral=True, runner_group="arm64"))
    (jit_request,) = github.requests_to("POST", ORG + "/actions/runners/generate-jitconfig")
    assert jit_request.body["runner_group_id"] == group_id
    assert github.runners[ORG][next(iter(github.runners[ORG]))]["runner_group_id"] == group_id


def test_ephemeral_create_fails_clearly_for_a_missing_group(github: FakeGithub, provider) -> None:
    with pytest.raises(GithubApiError, match="runner group 'arm64' does not exist"):
        provider.create(props_for(github.api_url, ORG, ephemeral=True, runner_group="arm64"))
    assert github.runner_names(ORG) == []


def test_create_with_a_bad_credential_explains_without_leaking(github: FakeGithub, provider) -> None:
    with pytest.raises(BadCredentialsError) as caught:
        provider.create(props_for(github.api_url, github_token="ghp_not_valid_987"))
    assert "ghp_not_valid_987" not in str(caught.value)


def test_create_with_missing_permission_names_it(github: FakeGithub, provider) -> None:
    github.forbidden.add(ORG)
    with pytest.raises(GithubApiError, match="Self-hosted runners: read and write"):
        provider.create(props_for(github.api_url, ORG))


def test_create_retries_a_5xx_then_mints_once(github: FakeGithub, provider, sleeps) -> None:
    github.fail_next("POST", REPO + "/actions/runners/registration-token", 500)
    provider.create(props_for(github.api_url))
    assert len(github.tokens) == 1 and sleeps.calls == [1.0]


def test_diff_is_quiet_for_the_same_inputs(github: FakeGithub, provider) -> None:
    olds = provider.create(props_for(github.api_url)).outs
    diff = provider.diff("id", olds, props_for(github.api_url))
    assert diff.changes is False and diff.replaces == []


def test_diff_ignores_a_rotated_credential_and_the_busy_timeout(github: FakeGithub, provider) -> None:
    olds = provider.create(props_for(github.api_url)).outs
    news = props_for(github.api_url, github_token="ghp_rotated", busy_timeout_seconds=60)
    diff = provider.diff("id", olds, news)
    assert diff.changes is False and diff.replaces == []


def test_diff_treats_no_group_and_empty_group_alike(github: FakeGithub, provider) -> None:
    olds = provider.create(props_for(github.api_url)).outs
    assert provider.diff("id", olds, props_for(github.api_url, runner_group=None)).changes is False


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("api_url", "https://ghe.example.com/api/v3"),
        ("scope_path", ORG),
        ("runner_name", "arm64-dev-a-1"),
        ("labels", ["self-hosted", "linux", "ARM64", "gpu"]),
        ("ephemeral", True),
        ("runner_group", "arm64"),
        ("replacement_fingerprint", "fp-2"),
    ],
)
def test_diff_replaces_delete_first_on_what_identifies_the_runner(
    github: FakeGithub, provider, key: str, value: Any
) -> None:
    olds = provider.create(props_for(github.api_url)).outs
    news = props_for(github.api_url)
    news[key] = value
    diff = provider.diff("id", olds, news)
    assert diff.changes is True
    assert diff.replaces == [key]
    assert diff.delete_before_replace is True


def test_replace_keys_are_the_documented_ones() -> None:
    assert set(REPLACE_ON) == {
        "api_url",
        "scope_path",
        "runner_name",
        "labels",
        "ephemeral",
        "runner_group",
        "replacement_fingerprint",
    }


HOUR = 3600.0


def _read(provider: RunnerRegistrationProvider, outs: dict[str, Any]) -> pulumi.dynamic.ReadResult:
    return provider.read("the-id", dict(outs))


def _writes(github: FakeGithub) -> list[str]:
    return [f"{r.method} {r.path}" for r in github.requests if r.method != "GET"]


def test_refresh_keeps_a_registration_whose_runner_is_listed_with_one_call_and_no_write(
    github: FakeGithub, provider, sleeps
) -> None:
    outs = provider.create(props_for(github.api_url)).outs
    github.register_runner(REPO, "arm64-dev-a-0", outs["token"])
    sleeps.clock += 30 * 24 * HOUR  # long after the token expired: a listed runner needs none
    before, writes = len(github.requests), _writes(github)
    result = _read(provider, outs)
    assert result.id == "the-id" and result.outs == outs
    assert [r.path for r in github.requests[before:]] == [REPO + "/actions/runners"]
    assert _writes(github) == writes and len(github.tokens) == 1


def _refresh_among_230_others(github: FakeGithub, provider: RunnerRegistrationProvider) -> list[FakeRequest]:
    """The requests a refresh makes for a registered runner that sits after 230 others."""
    for i in range(230):
        github.add_runner(REPO, f"unrelated-{i}")
    outs = provider.create(props_for(github.api_url)).outs
    github.register_runner(REPO, "arm64-dev-a-0", outs["token"])
    before = len(github.requests)
    assert _read(provider, outs).id == "the-id"
    return github.requests[before:]


def test_refresh_asks_for_its_runner_by_name_with_one_call(github: FakeGithub, provider) -> None:
    assert [r.query.get("name") for r in _refresh_among_230_others(github, provider)] == ["arm64-dev-a-0"]


def test_refresh_walks_the_pages_of_a_server_that_ignores_the_name_filter(github: FakeGithub, provider) -> None:
    """At most one list call per page: the runner sits on page 3 of 231."""
    github.ignore_name_filter = True
    assert [r.query["page"] for r in _refresh_among_230_others(github, provider)] == ["1", "2", "3"]


def test_refresh_keeps_an_unused_token_while_it_is_valid(github: FakeGithub, provider, sleeps) -> None:
    """A host may still be booting towards its registration: nothing to heal yet."""
    outs = provider.create(props_for(github.api_url)).outs
    sleeps.clock += 0.5 * HOUR
    assert _read(provider, outs).id == "the-id"


def test_refresh_drops_a_token_that_expired_unused(github: FakeGithub, provider, sleeps) -> None:
    """(a) the instance came hours after its registration (a capacity retry): nothing registered."""
    outs = provider.create(props_for(github.api_url)).outs
    sleeps.clock += 2 * HOUR
    result = _read(provider, outs)
    assert result.id == "" and result.outs == {}
    assert _writes(github) == [f"POST {REPO}/actions/runners/registration-token"]  # the create only


def test_refresh_drops_a_registration_whose_runner_github_removed(github: FakeGithub, provider, sleeps) -> None:
    """(b) GitHub removes a runner that stayed offline for 14 days."""
    outs = provider.create(props_for(github.api_url)).outs
    github.register_runner(REPO, "arm64-dev-a-0", outs["token"])
    sleeps.clock += 15 * 24 * HOUR
    assert _read(provider, outs).id == "the-id"  # still listed: kept
    github.remove_runner(REPO, "arm64-dev-a-0")
    assert _read(provider, outs).id == ""


def test_refresh_drops_an_ephemeral_registration_once_its_runner_is_gone(github: FakeGithub, provider) -> None:
    """(c) a JIT runner is listed from the moment it is minted and removed after its one job."""
    outs = provider.create(props_for(github.api_url, ORG, ephemeral=True)).outs
    assert _read(provider, outs).id == "the-id"  # minted, not used yet
    github.remove_runner(ORG, "arm64-dev-a-0")
    assert _read(provider, outs).id == ""


@pytest.mark.parametrize(
    ("status", "headers"),
    [(502, {}), (503, {}), (429, {"retry-after": "5"}), (403, {"x-ratelimit-remaining": "0"})],
)
def test_refresh_keeps_the_state_and_warns_when_github_cannot_answer(
    github: FakeGithub, sleeps, status: int, headers: dict[str, str]
) -> None:
    """(e) an outage or a rate limit is never taken for "gone"."""
    warnings: list[str] = []
    provider = RunnerRegistrationProvider(sleep=sleeps, now=sleeps.now, warn=warnings.append)
    outs = provider.create(props_for(github.api_url)).outs
    sleeps.clock += 30 * 24 * HOUR  # expired and unlisted: only an answer could tell
    github.fail_next("GET", REPO + "/actions/runners", status, headers=headers, times=99)
    result = _read(provider, outs)
    assert result.id == "the-id" and result.outs == outs
    assert len(warnings) == 1 and "runner arm64-dev-a-0" in warnings[0] and "kept" in warnings[0]
    assert outs["github_token"] not in warnings[0]


def test_refresh_keeps_the_state_and_warns_when_github_is_unreachable(github: FakeGithub, sleeps) -> None:
    warnings: list[str] = []
    provider = RunnerRegistrationProvider(sleep=sleeps, now=sleeps.now, warn=warnings.append)
    outs = provider.create(props_for(github.api_url)).outs
    github.stop()  # connection refused: a network error, retried then given up
    assert _read(provider, outs).id == "the-id"
    assert len(warnings) == 1 and "arm64-dev-a-0" in warnings[0]


def test_refresh_with_a_rotated_stored_credential_uses_the_override(github: FakeGithub, provider, monkeypatch) -> None:
    outs = provider.create(props_for(github.api_url)).outs
    github.register_runner(REPO, "arm64-dev-a-0", outs["token"])
    github.credentials = {"ghp_rotated"}
    monkeypatch.setenv(TOKEN_OVERRIDE_ENV, "ghp_rotated")
    assert _read(provider, outs).id == "the-id"
    assert github.requests[-1].authorization == "Bearer ghp_rotated"


@pytest.mark.parametrize(
    ("ephemeral", "listed", "expires_in", "usable"),
    [
        (False, True, -HOUR, True),
        (False, False, HOUR, True),
        (False, False, -1.0, False),
        (True, True, 0.0, True),
        (True, False, HOUR, False),
    ],
)
def test_still_usable(ephemeral: bool, listed: bool, expires_in: float, usable: bool) -> None:
    now = 1_800_000_000.0
    expires = datetime.fromtimestamp(now + expires_in, UTC).isoformat().replace("+00:00", "Z")
    props = {"ephemeral": ephemeral, "expires_at": "" if ephemeral else expires}
    assert still_usable(props, {"name": "r"} if listed else None, now) is usable


def test_still_usable_reads_rfc3339_offsets_and_fractions() -> None:
    base = {"ephemeral": False}
    assert still_usable({**base, "expires_at": "2026-11-27T04:21:07.000+00:00"}, None, 1_795_753_266.0)
    assert not still_usable({**base, "expires_at": "2026-11-27T05:21:07.123+01:00"}, None, 1_795_753_268.0)


def test_delete_removes_the_registered_runner(github: FakeGithub, provider) -> None:
    outs = provider.create(props_for(github.api_url)).outs
    github.register_runner(REPO, "arm64-dev-a-0", outs["token"])
    github.add_runner(REPO, "arm64-dev-b-0")
    provider.delete("id", outs)
    assert github.runner_names(REPO) == ["arm64-dev-b-0"]


def test_delete_of_a_runner_that_never_registered_is_success(github: FakeGithub, provider) -> None:
    outs = provider.create(props_for(github.api_url)).outs
    provider.delete("id", outs)
    assert github.requests_to("DELETE", r".*") == []


def test_delete_of_a_jit_runner_removes_it(github: FakeGithub, provider) -> None:
    outs = provider.create(props_for(github.api_url, ORG, ephemeral=True)).outs
    provider.delete("id", outs)
    assert github.runner_names(ORG) == []


def test_delete_waits_for_a_busy_runner_then_removes_it(github: FakeGithub, provider, sleeps) -> None:
    outs = provider.create(props_for(github.api_url)).outs
    github.register_runner(REPO, "arm64-dev-a-0", outs["token"])
    github.set_busy(REPO, "arm64-dev-a-0", requests_until_idle=3)
    provider.delete("id", outs)
    assert github.runner_names(REPO) == [] and sleeps.calls == [10, 10, 10]


def test_delete_of_a_runner_that_stays_busy_fails_after_its_timeout(github: FakeGithub, provider, sleeps) -> None:
    outs = provider.create(props_for(github.api_url, busy_timeout_seconds=45)).outs
    github.register_runner(REPO, "arm64-dev-a-0", outs["token"])
    github.set_busy(REPO, "arm64-dev-a-0", requests_until_idle=None)
    with pytest.raises(RunnerBusyError):
        provider.delete("id", outs)
    assert sum(sleeps.calls) == 45


def test_delete_with_a_revoked_stored_credential_says_so(github: FakeGithub, provider) -> None:
    outs = provider.create(props_for(github.api_url)).outs
    github.register_runner(REPO, "arm64-dev-a-0", outs["token"])
    github.credentials = {"ghp_rotated"}
    with pytest.raises(BadCredentialsError):
        provider.delete("id", outs)


def test_delete_prefers_the_override_credential_from_the_environment(github: FakeGithub, provider, monkeypatch) -> None:
    outs = provider.create(props_for(github.api_url)).outs
    github.register_runner(REPO, "arm64-dev-a-0", outs["token"])
    github.credentials = {"ghp_rotated"}
    monkeypatch.setenv(TOKEN_OVERRIDE_ENV, "ghp_rotated")
    provider.delete("id", outs)
    assert github.runner_names(REPO) == []
    assert github.requests[-1].authorization == "Bearer ghp_rotated"


def test_destroy_leaves_no_runner_of_the_stack(github: FakeGithub, provider) -> None:
    """Create every registration of a stack, let runners register as config.sh would, delete all."""
    github.add_runner(REPO, "arm64-prod-a-0")  # another stack's runner: must survive
    for i in range(120):
        github.add_runner(REPO, f"unrelated-{i}")  # pushes the stack's runners past page 1
    states = []
    for pool, count, ephemeral in (("a", 3, False), ("b", 2, False), ("c", 2, True)):
        for i in range(count):
            name = f"arm64-dev-{pool}-{i}"
            outs = provider.create(props_for(github.api_url, runner_name=name, ephemeral=ephemeral)).outs
            if not ephemeral:
                github.register_runner(REPO, name, outs["token"])
            states.append(outs)
    github.set_busy(REPO, "arm64-dev-a-1", requests_until_idle=1)
    assert len(github.runner_names(REPO, "arm64-dev-")) == 7
    for outs in states:
        provider.delete("id", outs)
    assert github.runner_names(REPO, "arm64-dev-") == []
    assert github.runner_names(REPO, "arm64-prod-") == ["arm64-prod-a-0"]
    assert len(github.runner_names(REPO, "unrelated-")) == 120
