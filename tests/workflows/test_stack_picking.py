"""The workflows' "pick stacks" steps, run as GitHub runs them (`bash -e`), against a stack directory
with one unreadable file: the step succeeds, lists the good stacks, names the bad file in `bad`,
and a job fails the run for it — so one bad file neither stops the other stacks nor goes unnoticed."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tests.tools.ops.conftest import write_stack

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
#: (workflow, env of the pick step) for each way a workflow walks several stacks.
CASES = {
    "destroy-scheduled": ("destroy.yml", {"EVENT": "schedule", "ONLY": ""}),
    "destroy-all": ("destroy.yml", {"EVENT": "workflow_dispatch", "ONLY": ""}),
    "up-all": ("up.yml", {"EVENT": "workflow_dispatch", "ONLY": ""}),
    "up-push": ("up.yml", {"EVENT": "push", "BEFORE": "0" * 40, "AFTER": "HEAD"}),
    "up-scheduled": ("up.yml", {"EVENT": "schedule", "ONLY": ""}),
    "preview": ("preview.yml", {"BASE_SHA": "0" * 40, "HEAD_SHA": "HEAD", "HEAD_REPO": "o/r", "THIS_REPO": "o/r"}),
}


def pick_step(workflow: str) -> tuple[dict, dict]:
    data = yaml.safe_load((WORKFLOWS / workflow).read_text())
    job = data["jobs"]["stacks"]
    (step,) = [s for s in job["steps"] if s.get("id") == "pick"]
    return data, step


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A working directory shaped like the repository: the real code, a stacks/ with one bad file."""
    for name in ("components", "tools"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / ".venv").symlink_to(sys.prefix)  # the project's venv, as `make venv` leaves it
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    write_stack(stacks, "dev")
    write_stack(stacks, "prod")
    (stacks / "Pulumi.broken.yaml").write_bytes("config: {}\n".encode("utf-16"))
    # `pulumi stack history` for the TTL check: every stack last updated 100 hours ago.
    stamp = (datetime.now(UTC) - timedelta(hours=100)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    history = [{"kind": "update", "result": "succeeded", "startTime": stamp, "endTime": stamp}]
    (tmp_path / "bin").mkdir()
    pulumi = tmp_path / "bin" / "pulumi"
    pulumi.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(history)}\nEOF\n")
    pulumi.chmod(0o755)
    return tmp_path


@pytest.mark.parametrize("case", sorted(CASES))
def test_pick_step_lists_good_stacks_and_reports_the_bad_file(case: str, checkout: Path) -> None:
    workflow, step_env = CASES[case]
    data, _ = pick_step(workflow)
    output = checkout / "out"
    env = {"PATH": f"{checkout / 'bin'}:/usr/bin:/bin", **step_env}
    done = run_pick(checkout, workflow, env)
    assert done.returncode == 0, done.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert json.loads(outputs["stacks"]) == ["dev", "prod"]
    assert json.loads(outputs["bad"]) == ["stacks/Pulumi.broken.yaml"]
    assert "stacks/Pulumi.broken.yaml: skipped" in done.stderr
    # The bad file fails the run in a job of its own, which the other stacks' jobs do not wait for.
    assert data["jobs"]["stacks"]["outputs"]["bad"] == "${{ steps.pick.outputs.bad }}"
    reporter = data["jobs"]["bad-stack-files"]
    assert reporter["needs"] == "stacks" and "needs.stacks.outputs.bad != '[]'" in reporter["if"]
    assert "exit 1" in reporter["steps"][-1]["run"]
    for job_id, job in data["jobs"].items():
        if job_id not in ("stacks", "bad-stack-files"):
            assert "bad-stack-files" not in json.dumps(job.get("needs", ""))


def run_pick(checkout: Path, workflow: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    _, step = pick_step(workflow)
    env = {"GITHUB_OUTPUT": str(checkout / "out"), "PYTHONPATH": str(checkout), "HOME": str(checkout), **env}
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=checkout, env=env, capture_output=True, text=True, check=False
    )


def test_pick_step_still_fails_when_the_command_cannot_run(checkout: Path) -> None:
    assert not any((Path(d) / "pulumi").exists() for d in ("/usr/bin", "/bin"))
    done = run_pick(checkout, "destroy.yml", {"PATH": "/usr/bin:/bin", "EVENT": "schedule", "ONLY": ""})
    assert done.returncode != 0  # no Pulumi CLI: the command's exit 2 is not swallowed
    assert "Pulumi CLI" in done.stderr


def test_pick_step_does_not_swallow_a_crash(checkout: Path) -> None:
    (checkout / "components").unlink()  # the program's package gone: tools.ops dies with a traceback (exit 1)
    done = run_pick(checkout, "destroy.yml", {"PATH": f"{checkout / 'bin'}:/usr/bin:/bin", "EVENT": "schedule"})
    assert done.returncode != 0 and "Traceback" in done.stderr
