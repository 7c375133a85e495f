"""Every shell file of the bootstrap (and its test doubles) is shellcheck-clean and strict."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHELLCHECK = Path(sys.executable).parent / "shellcheck"


def shell_files(*directories: Path) -> list[Path]:
    found = []
    for directory in directories:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and not path.is_symlink():
                head = path.read_bytes()[:64]
                if path.suffix == ".sh" or head.startswith(b"#!/usr/bin/env bash") or head.startswith(b"#!/bin/"):
                    found.append(path)
    return found


BOOTSTRAP = shell_files(REPO / "cloud-init")
DOUBLES = shell_files(REPO / "tests/fixtures/fake-runner", REPO / "tests/cloud_init/shims")


@pytest.mark.parametrize("path", BOOTSTRAP + DOUBLES, ids=lambda p: str(p.relative_to(REPO)))
def test_shellcheck_clean(path):
    result = subprocess.run(
        [str(SHELLCHECK), "-x", "-P", "SCRIPTDIR", "-P", str(REPO / "cloud-init/scripts"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("path", BOOTSTRAP + DOUBLES, ids=lambda p: str(p.relative_to(REPO)))
def test_executable_scripts_are_strict(path):
    text = path.read_text()
    if text.startswith("#!"):
        assert "\nset -euo pipefail\n" in text
        assert path.stat().st_mode & 0o111, "scripts must be executable (the renderer keeps the mode)"
    else:
        assert text.startswith("# shellcheck shell=bash"), "sourced files declare their shell"


def test_bootstrap_scripts_found():
    names = {p.name for p in BOOTSTRAP}
    assert {"bootstrap.sh", "register.sh", "fetch-runner.sh", "idle-watchdog.sh", "http.sh"} <= names


#: `run_script` (lib.sh) as a condition: `if`/`while`/`until`/`!` before it, `||`/`&&` after it on its line
#: (its command substitution included). Bash then ignores `set -e` in the script's subshell.
RUN_SCRIPT_AS_CONDITION = re.compile(
    r"^\s*(?:if|elif|while|until|!)\s.*\brun_script\b|\brun_script\b[^#\n]*(?:\|\||&&)", re.MULTILINE
)


@pytest.mark.parametrize("path", BOOTSTRAP, ids=lambda p: str(p.relative_to(REPO)))
def test_run_script_is_never_a_condition(path):
    """A script run by run_script as a condition would not stop at its first failing command: use
    script_status (or `set +e` around a command substitution) for its status."""
    code = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))
    assert RUN_SCRIPT_AS_CONDITION.findall(code) == []


def test_the_condition_pattern_finds_what_it_must():
    for line in (
        'run_script "$x/register.sh" --if-new || rc=$?',
        'token=$(run_script "$x/handoff.sh") || rc=$?',
        'if run_script "$x/prepare.sh"; then :; fi',
        "run_script a && b",
    ):
        assert RUN_SCRIPT_AS_CONDITION.findall(line), line
    for line in ('run_step prepare run_script "$x/prepare.sh"', 'script_status rc "$x/register.sh" --if-new'):
        assert not RUN_SCRIPT_AS_CONDITION.findall(line), line
