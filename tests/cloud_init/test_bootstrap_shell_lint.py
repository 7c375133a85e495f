"""Every shell file of the bootstrap (and its test doubles) is shellcheck-clean and strict."""

from __future__ import annotations

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
