"""The Makefile as a user meets it: `make help` lists each command once with one line, and the
commands that drive the Pulumi CLI say in one line what to install when it is missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Every command a user runs; internal targets (the venv stamp files) are not among them.
USER_TARGETS = {
    "help", "venv", "plan", "cloud-init", "new-stack", "deployer-policy", "test", "unit", "lint", "e2e",
    "emulation-test", "bench", "bench-boot", "preview", "up", "destroy", "remint", "refresh-image", "status",
    "wait-online", "validate", "gc", "clean",
}  # fmt: skip
PULUMI_TARGETS = ("preview", "up", "destroy", "remint", "refresh-image")


def make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_help_lists_each_user_facing_target_with_one_line_and_nothing_else() -> None:
    done = make("help")
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    parsed = [re.fullmatch(r"  make (\S+) +(\S.*)", line) for line in lines]
    assert all(parsed), [line for line, m in zip(lines, parsed, strict=True) if not m]
    names = [m.group(1) for m in parsed if m]
    assert len(names) == len(set(names))
    assert set(names) >= USER_TARGETS  # with digits too: e2e
    declared = set(re.findall(r"^([a-z0-9][a-z0-9-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    assert set(names) <= declared
    assert not any(word in done.stdout for word in (":=", "?=", "$(", "SHELL", "PYTHON"))
    assert make().stdout == done.stdout  # plain `make` is `make help`


def test_every_declared_phony_target_is_in_help() -> None:
    text = (ROOT / "Makefile").read_text()
    phony = set(" ".join(re.findall(r"^\.PHONY:((?:.*\\\n)*.*)$", text, re.MULTILINE)).replace("\\", " ").split())
    listed = {line.split()[1] for line in make("help").stdout.splitlines()}
    assert phony == listed


def path_without_pulumi() -> str:
    dirs = [d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "pulumi").exists()]
    path = os.pathsep.join(dirs)
    assert shutil.which("pulumi", path=path) is None and shutil.which("make", path=path)
    return path


@pytest.mark.parametrize("target", PULUMI_TARGETS)
def test_pulumi_commands_without_the_cli_say_what_to_install_in_one_line(target: str) -> None:
    done = make(target, "STACK=aws-graviton", "RUNNER=x", env={**os.environ, "PATH": path_without_pulumi()})
    assert done.returncode != 0
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    version = re.search(r"^PULUMI_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert version is not None
    assert f"make {target} needs the Pulumi CLI: curl -fsSL https://get.pulumi.com | sh -s -- --version " in line
    assert version.group(1) in line


def test_readme_installs_the_pinned_cli_version() -> None:
    version = re.search(r"^PULUMI_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert version is not None
    readme = (ROOT / "README.md").read_text()
    assert f"curl -fsSL https://get.pulumi.com | sh -s -- --version {version.group(1)}" in readme
