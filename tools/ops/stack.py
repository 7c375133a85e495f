"""What the ops commands know about a stack: its validated config, its runners, its credential."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.config import ConfigError, StackConfig, load_stack_file
from components.github.rest import GithubClient

STACKS_DIR = Path("stacks")
TOKEN_ENV = "GITHUB_TOKEN"


class OpsError(Exception):
    """A problem the operator must fix; the message says how."""


def stack_file(stacks_dir: Path, stack: str) -> Path:
    return stacks_dir / f"Pulumi.{stack}.yaml"


def stack_names(stacks_dir: Path) -> list[str]:
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in stacks_dir.glob("Pulumi.*.yaml"))


@dataclass(frozen=True)
class StackProblem:
    """A stack a multi-stack command skipped: its file and why."""

    stack_file: str
    reason: str

    def render(self) -> str:
        return f"{self.stack_file}: skipped: {self.reason}"


def read_each(stacks_dir: Path, names: Iterable[str]) -> tuple[dict[str, StackConfig], list[StackProblem]]:
    """Every named stack's validated config, and a problem for each one that cannot be read.

    Commands that walk several stacks use this so that one bad file is reported and the others are
    still acted on. Anything the loader raises counts against that file alone, not only ConfigError.
    """
    configs: dict[str, StackConfig] = {}
    problems: list[StackProblem] = []
    for name in names:
        path = stack_file(stacks_dir, name)
        try:
            configs[name] = load_stack_file(path)
        except ConfigError as error:
            detail = "\n".join(f"    {line}" for line in str(error).splitlines())
            problems.append(StackProblem(str(path), f"invalid configuration:\n{detail}"))
        except Exception as error:  # a file the loader cannot even parse must not stop the other stacks
            problems.append(StackProblem(str(path), f"cannot be read ({type(error).__name__}: {error})"))
    return configs, problems


@dataclass(frozen=True)
class Stack:
    config: StackConfig
    #: Every other stack's name, to tell `arm64-dev-x-…` (stack dev-x) from `arm64-dev-…` (stack dev).
    other_stacks: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.config.stack

    @property
    def expected_runners(self) -> list[str]:
        return [name for pool in self.config.pools for name in self.config.runner_names(pool)]

    @property
    def runner_prefix(self) -> str:
        return f"{self.config.runner.name_prefix}-{self.name}-"

    def owns(self, runner_name: str) -> bool:
        """A runner is this stack's when its name is `{namePrefix}-{stack}-{pool}-{i}` and no other stack
        with a longer name claims it (stack `dev` must not touch stack `dev-x`'s runners)."""
        if not re.fullmatch(re.escape(self.runner_prefix) + r"[A-Za-z0-9._-]+-\d+", runner_name):
            return False
        prefix = self.config.runner.name_prefix
        return not any(
            len(other) > len(self.name) and runner_name.startswith(f"{prefix}-{other}-") for other in self.other_stacks
        )

    def owned(self, runners: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [dict(r) for r in runners if self.owns(str(r.get("name", "")))]


def load_stack(stack: str, stacks_dir: Path = STACKS_DIR) -> Stack:
    path = stack_file(stacks_dir, stack)
    if not path.exists():
        known = ", ".join(stack_names(stacks_dir)) or "none"
        raise OpsError(f"no stack file {path} (stacks: {known})")
    others = tuple(s for s in stack_names(stacks_dir) if s != stack)
    return Stack(load_stack_file(path), others)


def github_token(stack: str, env: Mapping[str, str] | None = None) -> str:
    """The stack's GitHub credential: $GITHUB_TOKEN, else `pulumi config get github:token`.

    The value is read from the CLI's stdout, never passed in argv, printed or logged.
    """
    env = os.environ if env is None else env
    if env.get(TOKEN_ENV):
        return env[TOKEN_ENV]
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise OpsError(
            f"no GitHub credential: set {TOKEN_ENV}, or install the Pulumi CLI so the stack's github:token can be read"
        )
    done = subprocess.run(
        [pulumi, "config", "get", "github:token", "--stack", stack],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise OpsError(f"could not read github:token of stack {stack} with the Pulumi CLI; set {TOKEN_ENV} instead")
    return done.stdout.strip()


def client_for(stack: Stack, token: str, api_url: str | None = None, **kwargs: Any) -> GithubClient:
    github = stack.config.github
    return GithubClient(api_url or github.api_url, token, scope_path=github.scope_path, **kwargs)


def pulumi_outputs(stack: str) -> tuple[dict[str, Any] | None, str]:
    """`pulumi stack output --json` (secrets stay masked), or None and why not."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return None, "Pulumi CLI not installed: instance outputs not shown"
    done = subprocess.run(
        [pulumi, "stack", "output", "--json", "--stack", stack], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no message"])[0]
        return None, f"`pulumi stack output` failed: {first}"
    try:
        return json.loads(done.stdout or "{}"), ""
    except json.JSONDecodeError:
        return None, "`pulumi stack output --json` printed something that is not JSON"
