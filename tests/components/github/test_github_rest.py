"""GithubClient against the fake API: error mapping, retries and rate limits, without real waiting."""

from __future__ import annotations

import pytest

from components.github.rest import (
    BadCredentialsError,
    GithubClient,
    MissingPermissionError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from tests.components.github.conftest import ORG, REPO
from tests.fakes.github_api import DEFAULT_CREDENTIAL, FakeGithub

TOKEN_PATH = REPO + "/actions/runners/registration-token"


def test_sends_the_credential_as_bearer_with_api_version(github: FakeGithub, client_for) -> None:
    answer = client_for().request("POST", TOKEN_PATH)
    assert answer.status == 201
    assert github.requests[-1].authorization == f"Bearer {DEFAULT_CREDENTIAL}"


def test_401_says_the_token_is_bad_and_never_shows_it(github: FakeGithub, client_for) -> None:
    with pytest.raises(BadCredentialsError) as caught:
        client_for(token="ghp_revoked_value_123").request("POST", TOKEN_PATH)
    message = str(caught.value)
    assert "401" in message and "github:token" in message
    assert "ghp_revoked_value_123" not in message
    assert "ghp_revoked_value_123" not in repr(client_for(token="ghp_revoked_value_123"))


def test_403_on_a_repository_names_the_administration_permission(github: FakeGithub, client_for) -> None:
    github.forbidden.add(REPO)
    with pytest.raises(MissingPermissionError) as caught:
        client_for(REPO).request("POST", TOKEN_PATH)
    message = str(caught.value)
    assert '"Administration: read and write"' in message
    assert "`administration: write` (GitHub App)" in message
    assert "octo/app" in message


def test_403_on_an_organization_names_the_self_hosted_runners_permission(github: FakeGithub, client_for) -> None:
    github.forbidden.add(ORG)
    with pytest.raises(MissingPermissionError) as caught:
        client_for(ORG).request("POST", ORG + "/actions/runners/registration-token")
    message = str(caught.value)
    assert '"Self-hosted runners: read and write"' in message
    assert "organization_self_hosted_runners" in message
    assert "admin:org" in message


def test_404_says_the_target_is_missing_or_invisible_to_the_token(github: FakeGithub, client_for) -> None:
    with pytest.raises(NotFoundError) as caught:
        client_for("/repos/octo/missing").request("POST", "/repos/octo/missing/actions/runners/registration-token")
    message = str(caught.value)
    assert "404" in message and github.api_url in message
    assert "Administration" in message


def test_429_waits_for_retry_after_then_succeeds(github: FakeGithub, client_for, sleeps) -> None:
    github.fail_next("POST", TOKEN_PATH, 429, headers={"Retry-After": "7"})
    assert client_for().request("POST", TOKEN_PATH).status == 201
    assert sleeps.calls == [7.0]


def test_403_with_exhausted_rate_limit_waits_until_the_reset(github: FakeGithub, client_for, sleeps) -> None:
    reset = int(sleeps.now()) + 120
    github.fail_next(
        "POST",
        TOKEN_PATH,
        403,
        body={"message": "API rate limit exceeded"},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    )
    assert client_for().request("POST", TOKEN_PATH).status == 201
    assert sleeps.calls == [121.0]


def test_rate_limit_reset_beyond_the_bound_fails_with_the_reset_time(github: FakeGithub, client_for, sleeps) -> None:
    reset = int(sleeps.now()) + 3 * 3600
    github.fail_next(
        "POST",
        TOKEN_PATH,
        403,
        body={"message": "API rate limit exceeded"},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    )
    with pytest.raises(RateLimitedError) as caught:
        client_for().request("POST", TOKEN_PATH)
    assert "rate limit" in str(caught.value) and "rerun after" in str(caught.value)
    assert sleeps.calls == []


def test_secondary_rate_limit_without_headers_waits_a_minute(github: FakeGithub, client_for, sleeps) -> None:
    github.fail_next(
        "POST", TOKEN_PATH, 403, body={"message": "You have exceeded a secondary rate limit. Please wait."}
    )
    assert client_for().request("POST", TOKEN_PATH).status == 201
    assert sleeps.calls == [60.0]


def test_repeated_rate_limits_give_up_after_the_bounded_number_of_waits(github: FakeGithub, client_for, sleeps) -> None:
    github.fail_next("POST", TOKEN_PATH, 429, headers={"Retry-After": "5"}, times=10)
    with pytest.raises(RateLimitedError):
        client_for().request("POST", TOKEN_PATH)
    assert sleeps.calls == [5.0, 5.0, 5.0]


def test_5xx_is_retried_with_exponential_backoff(github: FakeGithub, client_for, sleeps) -> None:
    github.fail_next("POST", TOKEN_PATH, 502, times=2)
    assert client_for().request("POST", TOKEN_PATH).status == 201
    assert sleeps.calls == [1.0, 2.0]
    assert len(github.requests_to("POST", TOKEN_PATH)) == 3


def test_persistent_5xx_fails_after_bounded_attempts(github: FakeGithub, client_for, sleeps) -> None:
    github.fail_next("POST", TOKEN_PATH, 503, times=100)
    with pytest.raises(ServerError) as caught:
        client_for().request("POST", TOKEN_PATH)
    assert "503" in str(caught.value) and "githubstatus" in str(caught.value)
    assert sleeps.calls == [1.0, 2.0, 4.0, 8.0]
    assert len(github.requests_to("POST", TOKEN_PATH)) == 5


def test_unreachable_api_is_retried_then_reported(sleeps) -> None:
    with FakeGithub() as stopped:
        api_url = stopped.api_url
    client = GithubClient(api_url=api_url, token=DEFAULT_CREDENTIAL, sleep=sleeps, now=sleeps.now)
    with pytest.raises(ServerError) as caught:
        client.request("GET", REPO + "/actions/runners")
    assert "could not reach" in str(caught.value)
    assert DEFAULT_CREDENTIAL not in str(caught.value)
    assert len(sleeps.calls) == 4
