"""Which stacks the workflows act on: changed by a diff, named, or past their TTL."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fakes.github_workflows import EPOCH
from tests.tools.ops.conftest import FakeClock, write_stack
from tools.ops import selection
from tools.ops.cli import main
from tools.ops.stack import OpsError


def test_program_change_means_every_stack(stacks_dir: Path) -> None:
    assert selection.stacks_for_paths(["components/aws/pool.py"], stacks_dir) == ["dev", "dev-x"]
    assert selection.stacks_for_paths(["requirements.txt"], stacks_dir) == ["dev", "dev-x"]


def test_stack_file_change_means_that_stack(stacks_dir: Path) -> None:
    paths = [f"{stacks_dir}/Pulumi.dev.yaml", "README.md", f"{stacks_dir}/Pulumi.gone.yaml"]
    assert selection.stacks_for_paths(paths, stacks_dir) == ["dev"]
    assert selection.stacks_for_paths(["docs/operations.md"], stacks_dir) == []


def test_only(stacks_dir: Path) -> None:
    assert selection.pick_stacks(stacks_dir, "", None, None) == ["dev", "dev-x"]
    assert selection.pick_stacks(stacks_dir, "dev-x", None, None) == ["dev-x"]
    with pytest.raises(OpsError):
        selection.pick_stacks(stacks_dir, "prod", None, None)


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


def test_changed_paths_from_git(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("1")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-qm", "one")
    base = git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text("config: {}\n")
    git(tmp_path, "add", "stacks")
    git(tmp_path, "commit", "-qm", "two")
    assert selection.changed_paths(base, "HEAD", tmp_path) == ["stacks/Pulumi.dev.yaml"]
    assert selection.changed_paths(selection.NO_COMMIT, "HEAD", tmp_path) is None  # first push of a branch
    assert selection.changed_paths("deadbeef", "HEAD", tmp_path) is None  # unknown commit: all stacks


def entry(kind: str, hours_ago: float, result: str = "succeeded") -> dict:
    start = EPOCH - timedelta(hours=hours_ago)
    stamp = start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"kind": kind, "result": result, "startTime": stamp, "endTime": stamp}


@pytest.mark.parametrize(
    ("history", "expired"),
    [
        ([entry("update", 25)], True),
        ([entry("update", 23)], False),
        ([entry("update", 30), entry("refresh", 1)], True),  # a refresh is not a deploy
        ([entry("update", 30), entry("update", 2)], False),
        ([entry("update", 30), entry("destroy", 26)], False),  # already destroyed
        ([entry("update", 30, result="failed")], False),
        ([], False),  # never deployed
    ],
)
def test_ttl(stacks_dir: Path, history: list[dict], expired: bool) -> None:
    found = selection.expired_stacks(stacks_dir, EPOCH, history=lambda stack: history if stack == "dev" else [])
    assert found == (["dev"] if expired else [])


def test_ttl_skips_stacks_without_ttl_and_invalid_files(stacks_dir: Path) -> None:
    path = write_stack(stacks_dir, "keep")
    path.write_text(path.read_text().replace("  arm64-runners:ttlHours: 24\n", ""))
    (stacks_dir / "Pulumi.broken.yaml").write_text("config:\n  arm64-runners:pools: 3\n")
    warnings: list[str] = []
    old = {s: [entry("update", 100)] for s in ("dev", "dev-x", "keep", "broken")}
    assert selection.expired_stacks(stacks_dir, EPOCH, history=old.__getitem__, warn=warnings.append) == [
        "dev",
        "dev-x",
    ]
    assert warnings and "broken" in warnings[0]


def test_stacks_command_writes_github_output(stacks_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    args = ["--stacks-dir", str(stacks_dir), "stacks", "--only", "dev", "--github-output"]
    assert main(args, FakeClock().as_clock()) == 0
    assert output.read_text() == 'stacks=["dev"]\n'
