"""Which stacks the workflows act on: changed by a diff, named, or past their TTL."""

from __future__ import annotations

import json
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
    assert selection.pick_stacks(stacks_dir, "", None, None).stacks == ["dev", "dev-x"]
    assert selection.pick_stacks(stacks_dir, "dev-x", None, None).stacks == ["dev-x"]
    with pytest.raises(OpsError):
        selection.pick_stacks(stacks_dir, "prod", None, None)


def test_a_named_stack_is_picked_even_when_its_file_is_broken(stacks_dir: Path) -> None:
    # `pulumi destroy` does not run the program: a stack whose file broke can still be torn down.
    (stacks_dir / "Pulumi.dev.yaml").write_text("config: [\n")
    assert selection.pick_stacks(stacks_dir, "dev", None, None) == selection.Selection(["dev"])


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
    assert found == selection.Selection(["dev"] if expired else [])


@pytest.mark.parametrize(
    "stamp",
    ["2026-11-26T11:00:00Z", "2026-11-26T11:00:00.123456789Z", "2026-11-26T12:00:00+01:00", "2026-11-26t11:00:00z"],
)
def test_ttl_reads_any_rfc3339_history_time(stacks_dir: Path, stamp: str) -> None:
    history = [{"kind": "update", "result": "succeeded", "startTime": stamp, "endTime": stamp}]
    found = selection.expired_stacks(stacks_dir, EPOCH, history=lambda stack: history if stack == "dev" else [])
    assert found == selection.Selection(["dev"])  # 25 h ago, ttlHours 24


#: Stack files that each used to stop every TTL destroy (the loader raised something else than its
#: ConfigError, or the ConfigError was fatal): each must be skipped alone.
BROKEN_FILES = {
    "pools-not-a-list": "config:\n  arm64-runners:pools: 3\n",
    "not-yaml": "config: [\n",
    "document-not-a-mapping": "- just\n- a list\n",
    "config-not-a-mapping": "config: 5\n",
    "environment-not-a-list": "environment: 5\nconfig: {}\n",
    "utf16": "config: {}\n".encode("utf-16"),
    "not-utf8": b"config:\n  github:owner: \xff\xfe\n",
}


def test_one_bad_stack_file_does_not_stop_the_ttl_destroy_of_the_others(stacks_dir: Path) -> None:
    path = write_stack(stacks_dir, "keep")
    path.write_text(path.read_text().replace("  arm64-runners:ttlHours: 24\n", ""))
    for name, content in BROKEN_FILES.items():
        target = stacks_dir / f"Pulumi.{name}.yaml"
        target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content)
    old = {s: [entry("update", 100)] for s in ("dev", "dev-x", "keep", *BROKEN_FILES)}
    found = selection.expired_stacks(stacks_dir, EPOCH, history=old.__getitem__)
    assert found.stacks == ["dev", "dev-x"]
    assert sorted(p.stack_file for p in found.problems) == sorted(
        str(stacks_dir / f"Pulumi.{name}.yaml") for name in BROKEN_FILES
    )
    assert all(p.reason for p in found.problems)


def test_unreadable_history_skips_that_stack_only(stacks_dir: Path) -> None:
    def history(stack: str) -> list[dict]:
        if stack == "dev":
            return [{"kind": "update", "result": "succeeded", "startTime": "yesterday"}]
        return [entry("update", 100)]

    found = selection.expired_stacks(stacks_dir, EPOCH, history=history)
    assert found.stacks == ["dev-x"]
    (problem,) = found.problems
    assert problem.stack_file.endswith("Pulumi.dev.yaml") and "history" in problem.reason


def fake_pulumi_cli(bin_dir: Path, history: list[dict]) -> None:
    """A `pulumi` on PATH that answers `pulumi stack history --json …` with `history`."""
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(history)}\nEOF\n")
    script.chmod(0o755)


def test_expired_command_reports_bad_files_and_exits_3(stacks_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    (stacks_dir / "Pulumi.broken.yaml").write_text("config:\n  arm64-runners:pools: 3\n")
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    fake_pulumi_cli(tmp_path / "bin", [entry("update", 100)])
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    code = main(["--stacks-dir", str(stacks_dir), "expired", "--github-output"], FakeClock().as_clock())
    assert code == 3
    broken = str(stacks_dir / "Pulumi.broken.yaml")
    assert output.read_text() == f'stacks=["dev", "dev-x"]\nbad=["{broken}"]\n'
    err = capsys.readouterr().err
    assert f"{broken}: skipped: invalid configuration" in err
    assert "arm64-runners:pools" in err  # the loader's own message, key path included


def test_stacks_command_walking_all_stacks_skips_a_bad_file(stacks_dir: Path, capsys) -> None:
    (stacks_dir / "Pulumi.broken.yaml").write_text("config: [\n")
    code = main(["--stacks-dir", str(stacks_dir), "stacks", "--only", ""], FakeClock().as_clock())
    assert code == 3
    captured = capsys.readouterr()
    assert captured.out == 'stacks=["dev", "dev-x"]\n'
    assert "Pulumi.broken.yaml: skipped" in captured.err


def test_stacks_command_writes_github_output(stacks_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    args = ["--stacks-dir", str(stacks_dir), "stacks", "--only", "dev", "--github-output"]
    assert main(args, FakeClock().as_clock()) == 0
    assert output.read_text() == 'stacks=["dev"]\nbad=[]\n'


def test_the_schedule_reconciles_every_stack_but_those_that_opt_out(stacks_dir: Path, capsys) -> None:
    path = stacks_dir / "Pulumi.dev-x.yaml"
    path.write_text(path.read_text().replace("config:\n", "config:\n  arm64-runners:reconcile: false\n", 1))
    (stacks_dir / "Pulumi.broken.yaml").write_text("config: [\n")
    found = selection.reconciled_stacks(stacks_dir)
    assert found.stacks == ["dev"]
    assert [p.stack_file for p in found.problems] == [str(stacks_dir / "Pulumi.broken.yaml")]
    assert main(["--stacks-dir", str(stacks_dir), "stacks", "--reconcile"]) == 3
    assert capsys.readouterr().out.splitlines()[0] == 'stacks=["dev"]'
