"""The fleet: per-cloud dispatch, SDK isolation, GitHub-side resources, runs-on labels."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from components.config import load_stack_file
from components.fleet import runs_on_labels
from tools.mockengine import is_secret, reveal, run_stack

from .config.test_invalid_stacks import BASE

ROOT = Path(__file__).parents[2]
_IMPORTS = """
import contextlib, io, sys
from tools import plan
with contextlib.redirect_stdout(io.StringIO()):
    code = plan.main(["--stack", sys.argv[1], "--format", "json"])
print(code, sorted({m.split(".")[0] for m in sys.modules if m.startswith("pulumi_")}))
"""


@pytest.mark.parametrize(
    ("stack", "loaded", "absent"),
    [
        ("aws-graviton", {"pulumi_aws", "pulumi_github"}, {"pulumi_oci"}),
        ("emulated", {"pulumi_aws", "pulumi_github"}, {"pulumi_oci"}),
        ("oci-free", {"pulumi_oci", "pulumi_github"}, {"pulumi_aws"}),
    ],
)
def test_single_cloud_stack_never_imports_the_other_clouds_sdk(stack, loaded, absent):
    out = subprocess.run(
        [sys.executable, "-c", _IMPORTS, stack], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    code, modules = out.split(" ", 1)
    modules = set(json.loads(modules.replace("'", '"')))
    assert code == "0"
    assert loaded <= modules
    assert not (absent & modules), f"{stack} imported {absent & modules}"


def test_org_stack_creates_a_restricted_runner_group_before_registrations():
    result = run_stack("mixed", _stack_config("mixed"))
    assert result.error is None
    (group,) = result.by_type("github:index/actionsRunnerGroup:ActionsRunnerGroup")
    assert group.inputs["name"] == "arm64"
    assert group.inputs["visibility"] == "selected"
    assert group.inputs["selectedRepositoryIds"] and not group.inputs.get("allowsPublicRepositories")
    registrations = [r for r in result.resources if "runner_name" in r.outputs and "token" in r.outputs]
    assert len(registrations) == 3
    assert all(group.urn in r.dependencies for r in registrations), "a runner could register before its group"
    (variable,) = result.by_type("github:index/actionsOrganizationVariable:ActionsOrganizationVariable")
    assert json.loads(variable.inputs["value"]) == ["self-hosted", "linux", "ARM64"]
    (provider,) = result.by_type("pulumi:providers:github")
    assert is_secret(provider.inputs["token"])
    assert reveal(provider.inputs["owner"]) == "embeddenator-org"


def test_repo_stack_publishes_a_repository_variable_and_no_group():
    config = copy.deepcopy(BASE)
    result = run_stack("dev", config)
    assert result.error is None
    assert not result.by_type("github:index/actionsRunnerGroup:ActionsRunnerGroup")
    (variable,) = result.by_type("github:index/actionsVariable:ActionsVariable")
    assert variable.inputs["repository"] == "embeddenator"
    assert variable.inputs["variableName"] == "ARM64_RUNS_ON"
    assert json.loads(variable.inputs["value"]) == ["self-hosted", "linux", "ARM64", "large"]


def test_runs_on_variable_can_be_turned_off():
    config = copy.deepcopy(BASE)
    config["arm64-runners:github"]["runsOnVariable"] = ""
    result = run_stack("dev", config)
    assert not result.by_type("github:index/actionsVariable:ActionsVariable")


def test_runs_on_labels_are_the_labels_every_pool_shares():
    config = load_stack_file(ROOT / "stacks" / "Pulumi.aws-graviton.yaml")
    assert runs_on_labels(config) == ["self-hosted", "linux", "ARM64"]


def test_pool_with_count_zero_creates_nothing():
    config = copy.deepcopy(BASE)
    config["arm64-runners:pools"][0]["count"] = 0
    result = run_stack("dev", config)
    assert result.error is None
    assert not [r for r in result.resources if r.type.startswith("aws:")]
    assert result.outputs["runners"] == []


def _stack_config(stack: str) -> dict:
    import yaml

    config = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    config["github:token"] = {"secure": "v1:x"}
    return config
