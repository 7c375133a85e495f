"""A stack directory, the fake GitHub API with workflows, and a clock that never waits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.github_api import DEFAULT_CREDENTIAL
from tests.fakes.github_workflows import EPOCH, FakeGithubWorkflows
from tools.ops.cli import Clock

SCOPE = "/repos/octo/app"
STACK_FILE = """\
config:
  aws:region: us-east-1
  github:owner: octo
  github:token:
    secure: v1:AAAAAAAAAAAAAAAA
  arm64-runners:github:
    repository: app
  arm64-runners:runner:
    version: "2.331.0"
    idleAction: {idle_action}
  arm64-runners:pools:
    - name: a
      cloud: aws
      count: 2
      instanceType: t4g.medium
  arm64-runners:ttlHours: 24
"""


def write_stack(stacks_dir: Path, name: str, idle_action: str = "stop") -> Path:
    path = stacks_dir / f"Pulumi.{name}.yaml"
    path.write_text(STACK_FILE.format(idle_action=idle_action))
    return path


@dataclass
class FakeClock:
    """`sleep` advances time instantly and runs `on_sleep` (e.g. a runner coming online)."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)
    on_sleep: Callable[[float], None] | None = None

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep(self.now)

    def monotonic(self) -> float:
        return self.now

    def utc(self) -> datetime:
        return EPOCH + timedelta(seconds=self.now)

    def as_clock(self) -> Clock:
        return Clock(sleep=self.sleep, monotonic=self.monotonic, utc=self.utc)


@pytest.fixture
def stacks_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "stacks"
    directory.mkdir()
    write_stack(directory, "dev")
    write_stack(directory, "dev-x")  # a stack whose runner names start like dev's
    return directory


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGithubWorkflows]:
    monkeypatch.setenv("GITHUB_TOKEN", DEFAULT_CREDENTIAL)
    monkeypatch.setenv("PATH", "/nonexistent")  # no Pulumi CLI: outputs are reported as unavailable
    with FakeGithubWorkflows() as fake:
        fake.add_scope(SCOPE)
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
