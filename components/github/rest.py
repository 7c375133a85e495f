"""A small GitHub REST client (stdlib urllib) that turns failures into messages a user can act on.

Used by the RunnerRegistration dynamic provider (which runs in Pulumi's provider process, so it may
only depend on the standard library) and by the ops CLI through `components.github.scope`.

The credential is held by the client and sent only in the Authorization header: it is never part of
an exception message, a log line or a repr.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

API_VERSION = "2022-11-28"
USER_AGENT = "arm64-runners"


class GithubApiError(Exception):
    """A GitHub REST call failed; `str(error)` says what to do about it."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BadCredentialsError(GithubApiError):
    """401: the token is wrong, expired or revoked."""


class MissingPermissionError(GithubApiError):
    """403 (not rate limiting): the token lacks the permission the call needs."""


class NotFoundError(GithubApiError):
    """404: the target does not exist, or the token may not see it."""


class UnprocessableError(GithubApiError):
    """422 / 409: GitHub refused the request as stated (e.g. a runner still running a job).

    `github_message` is GitHub's own wording, for callers that must tell one refusal from another."""

    def __init__(self, message: str, status: int | None = None, github_message: str = "") -> None:
        super().__init__(message, status)
        self.github_message = github_message


class RateLimitedError(GithubApiError):
    """The rate limit did not reset within the bounded wait."""


class ServerError(GithubApiError):
    """5xx or network failure that persisted through the bounded retries."""


def permission_hint(scope_path: str) -> str:
    """The permission a token needs to manage self-hosted runners of `scope_path`."""
    if scope_path.startswith("/orgs/"):
        org = scope_path.split("/")[2]
        return (
            f'the token needs organization "{org}" permission "Self-hosted runners: read and write" '
            "(fine-grained PAT), `organization_self_hosted_runners: write` (GitHub App), or the "
            "`admin:org` scope (classic PAT)"
        )
    repo = "/".join(scope_path.split("/")[2:4])
    return (
        f'the token needs repository "{repo}" permission "Administration: read and write" '
        "(fine-grained PAT), `administration: write` (GitHub App), or the `repo` scope (classic PAT)"
    )


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    data: Any


@dataclass
class GithubClient:
    """Calls `{api_url}{path}` with the token; retries 5xx and rate limits within fixed bounds.

    `sleep` and `now` (epoch seconds) are injectable so tests never wait.
    """

    api_url: str
    token: str = field(repr=False)
    #: REST prefix of the runner endpoints (for permission hints): /repos/o/r or /orgs/o.
    scope_path: str = ""
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time
    #: Attempts per call for 5xx / network errors (exponential backoff 1, 2, 4, ... s).
    max_attempts: int = 5
    max_backoff_seconds: float = 30.0
    #: Longest single wait for a rate-limit reset; beyond it the call fails with the reset time.
    max_rate_limit_wait_seconds: float = 900.0
    #: Rate-limit waits per call before giving up.
    max_rate_limit_waits: int = 3
    timeout_seconds: float = 30.0

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Response:
        url = self.api_url.rstrip("/") + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        what = f"{method} {path}"
        server_failures = 0
        rate_waits = 0
        while True:
            try:
                status, headers, data = self._send(method, url, body)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                server_failures += 1
                if server_failures >= self.max_attempts:
                    raise ServerError(
                        f"{what}: could not reach {self.api_url} after {server_failures} attempts "
                        f"({reason}); check the GitHub base URL and the network, then rerun"
                    ) from None
                self.sleep(self._backoff(server_failures))
                continue
            if status < 400:
                return Response(status, headers, data)
            message = _github_message(data)
            if _is_rate_limited(status, headers, message):
                wait = self._rate_limit_wait(headers)
                rate_waits += 1
                if rate_waits > self.max_rate_limit_waits or wait > self.max_rate_limit_wait_seconds:
                    raise RateLimitedError(
                        f"{what}: GitHub rate limit exceeded ({message}); it resets in about "
                        f"{int(wait)} s ({_reset_text(headers)}): rerun after that, or use a token "
                        "with a higher limit (a GitHub App installation)",
                        status,
                    )
                self.sleep(wait)
                continue
            if status >= 500:
                server_failures += 1
                if server_failures >= self.max_attempts:
                    raise ServerError(
                        f"{what}: GitHub answered {status} {server_failures} times ({message}); "
                        "GitHub may be degraded (https://www.githubstatus.com): rerun later",
                        status,
                    )
                self.sleep(self._backoff(server_failures))
                continue
            raise self._client_error(what, status, message)

    def _send(self, method: str, url: str, body: Any) -> tuple[int, dict[str, str], Any]:
        payload = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=payload, method=method)
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", API_VERSION)
        request.add_header("User-Agent", USER_AGENT)
        request.add_header("Authorization", f"Bearer {self.token}")
        if payload is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as answer:
                return answer.status, _lower_keys(answer.headers), _parse(answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, _lower_keys(error.headers), _parse(error.read())

    def _backoff(self, failures: int) -> float:
        return float(min(self.max_backoff_seconds, 2 ** (failures - 1)))

    def _rate_limit_wait(self, headers: Mapping[str, str]) -> float:
        retry_after = headers.get("retry-after")
        if retry_after and retry_after.strip().isdigit():
            return float(retry_after.strip())
        reset = headers.get("x-ratelimit-reset")
        if reset and reset.strip().isdigit():
            return max(1.0, float(reset.strip()) - self.now() + 1)
        # Secondary limits without headers: GitHub asks to wait at least a minute.
        return 60.0

    def _client_error(self, what: str, status: int, message: str) -> GithubApiError:
        hint = permission_hint(self.scope_path) if self.scope_path else ""
        if status == 401:
            return BadCredentialsError(
                f"{what}: GitHub rejected the credential (401 {message}): the token is wrong, "
                "expired or revoked; set a valid one with `pulumi config set --secret github:token`",
                status,
            )
        if status == 403:
            return MissingPermissionError(
                f"{what}: forbidden (403 {message}): {hint or 'the token lacks a permission'}",
                status,
            )
        if status == 404:
            return NotFoundError(
                f"{what}: not found (404 {message}): check that the owner/repository exist at "
                f"{self.api_url}, and {hint or 'that the token can see them'} "
                "(GitHub answers 404 when a token may not see a resource)",
                status,
            )
        if status in (409, 422):
            return UnprocessableError(f"{what}: GitHub refused it ({status} {message})", status, message)
        return GithubApiError(f"{what}: GitHub answered {status} ({message})", status)


def _lower_keys(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers.items() if headers else [])}


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")[:200]


def _github_message(data: Any) -> str:
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return str(data or "no message")[:200]


def _is_rate_limited(status: int, headers: Mapping[str, str], message: str) -> bool:
    if status == 429:
        return True
    if status == 403:
        return (
            headers.get("x-ratelimit-remaining") == "0"
            or "retry-after" in headers
            or "secondary rate limit" in message.lower()
        )
    return False


def _reset_text(headers: Mapping[str, str]) -> str:
    reset = headers.get("x-ratelimit-reset", "")
    if reset.isdigit():
        return "at " + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(reset)))
    return "per retry-after" if "retry-after" in headers else "reset time not given"
