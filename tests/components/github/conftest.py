"""Fixtures: a fake GitHub API on 127.0.0.1 and clients that never really sleep."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from components.github.rest import GithubClient
from tests.fakes.github_api import DEFAULT_CREDENTIAL, FakeGithub

REPO = "/repos/octo/app"
ORG = "/orgs/octo"


class Sleeps:
    """Records the sleeps a client asked for, and a fake clock they advance."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.clock = 1_700_000_000.0

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock += seconds

    def now(self) -> float:
        return self.clock


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def github(sleeps: Sleeps) -> Iterator[FakeGithub]:
    """The fake API on the same clock as the clients' sleeps."""
    with FakeGithub(clock=sleeps.now) as fake:
        fake.add_scope(REPO)
        fake.add_scope(ORG)
        yield fake


@pytest.fixture
def client_for(github: FakeGithub, sleeps: Sleeps):
    def make(scope_path: str = REPO, token: str = DEFAULT_CREDENTIAL) -> GithubClient:
        return GithubClient(
            api_url=github.api_url,
            token=token,
            scope_path=scope_path,
            sleep=sleeps,
            now=sleeps.now,
        )

    return make
