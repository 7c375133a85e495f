"""The delivery workflows: schema-valid, zizmor-clean, least privilege, pinned, and wired as documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
NAMES = ("preview.yml", "up.yml", "destroy.yml", "validate.yml")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the bare key `on` as the boolean True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])]


def test_all_four_workflows_exist() -> None:
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml")) == sorted(NAMES)


def test_schema_valid() -> None:
    files = [str(WORKFLOWS / n) for n in NAMES]
    done = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *files,
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("persona", ["regular", "auditor"])
def test_zizmor_offline_has_no_findings(persona: str) -> None:
    done = subprocess.run(
        [
            str(BIN / "zizmor"),
            "--offline",
            f"--persona={persona}",
            "--no-progress",
            str(WORKFLOWS),
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", NAMES)
def test_least_privilege(name: str) -> None:
    workflow = load(name)
    assert workflow["permissions"] == {}, "workflow-level permissions must be empty"
    for job_id, job in workflow["jobs"].items():
        assert "permissions" in job, f"{name}:{job_id} has no permissions block"
        granted = job["permissions"]
        assert all(v in ("read", "write", "none") for v in granted.values())
        writes = {k for k, v in granted.items() if v == "write"}
        assert writes <= {"id-token", "pull-requests"}, f"{name}:{job_id} writes {writes}"


@pytest.mark.parametrize("name", NAMES)
def test_actions_pinned_by_sha_with_version_comment(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    uses_lines = [line.strip() for line in text.splitlines() if line.strip().startswith(("uses:", "- uses:"))]
    assert uses_lines
    for line in uses_lines:
        ref, _, comment = line.split("uses:", 1)[1].partition("#")
        assert PINNED.match(ref.strip()), line
        assert re.match(r"\s*v\d+(\.\d+)*", comment), f"no version comment: {line}"


@pytest.mark.parametrize("name", NAMES)
def test_checkout_does_not_persist_credentials(name: str) -> None:
    for _, step in steps(load(name)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("name", NAMES)
def test_no_expression_inside_run_scripts(name: str) -> None:
    """Values reach scripts through env only: no template injection, no secret echoed by a script."""
    for job_id, step in steps(load(name)):
        assert "${{" not in step.get("run", ""), f"{name}:{job_id}:{step.get('name')}"


def test_preview_paths_matrix_and_fork_fallback() -> None:
    workflow = load("preview.yml")
    paths = set(workflow["on"]["pull_request"]["paths"])
    assert {
        "components/**",
        "cloud-init/**",
        "stacks/**",
        "policy/**",
        "__main__.py",
        "Pulumi.yaml",
    } <= paths
    assert "requirements*.txt" in paths
    jobs = workflow["jobs"]
    preview = jobs["preview"]
    pulumi = next(s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["policyPacks"] == "policy"
    names = [s.get("name", s.get("uses", "")) for s in preview["steps"]]
    install = next(i for i, n in enumerate(names) if "dependencies" in n)
    assert install < names.index(pulumi.get("name", pulumi["uses"])), "deps must be installed before pulumi"
    assert "make venv" in preview["steps"][install]["run"]
    assert "policy/venv/bin/pip install -r policy/requirements.txt" in preview["steps"][install]["run"]
    assert "needs.stacks.outputs.trusted == 'true'" in preview["if"]
    fork = jobs["offline-plan"]
    assert "needs.stacks.outputs.trusted != 'true'" in fork["if"]
    assert "secrets." not in yaml.safe_dump(fork)
    assert any("make plan" in s.get("run", "") and "FORMAT=markdown" in s["run"] for s in fork["steps"])
    assert preview["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"


def test_up_per_stack_environment_concurrency_and_wait_online() -> None:
    workflow = load("up.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in workflow["on"]
    up = workflow["jobs"]["up"]
    assert up["environment"] == "${{ matrix.stack }}"
    assert up["concurrency"]["group"] == "pulumi-${{ matrix.stack }}"
    assert up["concurrency"]["cancel-in-progress"] is False
    runs = [s.get("run", "") for s in up["steps"]]
    assert "make wait-online" in runs[-1]
    pulumi = next(s for s in up["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "up"
    assert pulumi["with"]["policyPacks"] == "policy"


def test_up_reconciles_on_a_schedule_with_a_refresh() -> None:
    """Every 6 hours `pulumi up --refresh` heals each stack that did not opt out; nothing waits for
    idle-stopped runners to come online then."""
    workflow = load("up.yml")
    assert workflow["on"]["schedule"] == [{"cron": "17 */6 * * *"}]
    up = workflow["jobs"]["up"]
    pulumi = next(s for s in up["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["refresh"] is True
    wait = next(s for s in up["steps"] if "make wait-online" in s.get("run", ""))
    assert wait["if"] == "github.event_name != 'schedule'"
    pick = next(s for s in workflow["jobs"]["stacks"]["steps"] if s.get("id") == "pick")
    assert 'elif [ "$EVENT" = "schedule" ]; then' in pick["run"] and "stacks --reconcile" in pick["run"]


def test_destroy_dispatch_schedule_and_runner_check() -> None:
    workflow = load("destroy.yml")
    assert workflow["on"]["workflow_dispatch"]["inputs"]["stack"]["required"] is True
    assert workflow["on"]["schedule"]
    pick = " ".join(s.get("run", "") for s in workflow["jobs"]["stacks"]["steps"])
    assert "tools.ops expired" in pick
    destroy = workflow["jobs"]["destroy"]
    assert destroy["concurrency"]["group"] == load("up.yml")["jobs"]["up"]["concurrency"]["group"]
    assert destroy["environment"] == "${{ matrix.stack }}"
    last = destroy["steps"][-1]["run"]
    assert "tools.ops gc" in last and "--include-stopped" in last and "--expect-none" in last


def test_validate_runs_on_arm64_and_proves_the_runner() -> None:
    workflow = load("validate.yml")
    assert {"workflow_dispatch", "workflow_call"} <= set(workflow["on"])
    default = workflow["on"]["workflow_dispatch"]["inputs"]["runs_on"]["default"]
    assert yaml.safe_load(default) == ["self-hosted", "linux", "ARM64"]
    body = yaml.safe_dump(workflow["jobs"]["prove"]["steps"])
    for proof in (
        "uname -m",
        "aarch64",
        "nproc",
        "df ",
        "docker run",
        "buildx build --platform linux/arm64",
    ):
        assert proof in body, proof
