"""The offline plan: every example stack, its JSON contract, secrets, user-data extraction."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tools import plan
from tools.mockengine import MOCK_SECRET, reveal

STACKS = sorted(p.name[7:-5] for p in (Path(__file__).parents[2] / "stacks").glob("Pulumi.*.yaml"))
FLEET = "arm64-runners:index:Fleet"


@pytest.fixture(scope="module")
def plans():
    return {stack: plan.plan(plan.STACKS_DIR / f"Pulumi.{stack}.yaml") for stack in STACKS}


def test_there_is_one_example_stack_per_backend_and_a_mixed_one():
    assert {"aws-graviton", "oci-free", "emulated", "mixed"} <= set(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_example_stack_plans_what_its_file_says(plans, stack):
    result = plans[stack]
    assert result.error is None, result.error
    config = yaml.safe_load((plan.STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
    pools = config["arm64-runners:pools"]
    # One pool component per pool, of that pool's cloud, under the stack's fleet.
    fleet = result.by_type(FLEET)
    assert len(fleet) == 1
    pool_components = [r for r in result.resources if r.type.endswith(":RunnerPool")]
    assert sorted((r.type.split(":")[1], r.name) for r in pool_components) == sorted(
        (p["cloud"], f"pool-{p['name']}") for p in pools
    )
    # One runner per count, named {prefix}-{stack}-{pool}-{i}, with the pool's labels.
    runners = {r["name"]: r for r in result.outputs["runners"]}
    prefix = config["arm64-runners:runner"].get("namePrefix", "arm64")
    expected = {f"{prefix}-{stack}-{p['name']}-{i}" for p in pools for i in range(p.get("count", 1))}
    assert set(runners) == expected
    # One registration per runner, its token a secret.
    registrations = [r for r in result.resources if "token" in r.outputs and "runner_name" in r.outputs]
    assert sorted(reveal(r.outputs["runner_name"]) for r in registrations) == sorted(expected)
    for registration in registrations:
        token = registration.outputs["token"]
        assert not isinstance(token, str), f"{registration.name}: token is not a secret"
    assert result.outputs["labels"][:3] == ["self-hosted", "linux", "ARM64"]


@pytest.mark.parametrize("stack", STACKS)
def test_plan_json_contract_and_no_secret_in_it(plans, stack):
    doc = plan.to_json(plans[stack])
    assert set(doc) >= {"stack", "resources", "outputs", "warnings"}
    assert doc["stack"] == stack
    names = {r["name"] for r in doc["resources"]}
    for res in doc["resources"]:
        assert set(res) == {"type", "name", "parent", "inputs"}
        assert res["parent"] is None or res["parent"] in names
    text = json.dumps(doc)
    assert MOCK_SECRET not in text
    tokens = [str(reveal(r.outputs["token"])) for r in plans[stack].resources if "token" in r.outputs]
    assert tokens and not any(t in text for t in tokens)
    assert "[secret]" in text


def test_plan_text_and_markdown(capsys):
    assert plan.main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Offline plan for stack '{plan.DEFAULT_STACK}'")
    assert "Resources: + " in out and "arm64-runners:index:Fleet" in out
    assert plan.main(["--stack", "aws-graviton", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("### Offline plan: `aws-graviton`")


def test_unknown_stack_is_a_clear_error(capsys):
    assert plan.main(["--stack", "nope"]) == 2
    assert "no such stack file" in capsys.readouterr().err


def test_cloud_init_dir_gets_one_user_data_per_instance(tmp_path, plans):
    assert plan.main(["--stack", "mixed", "--cloud-init-dir", str(tmp_path)]) == 0
    files = sorted(tmp_path.glob("*.yaml"))
    runners = plans["mixed"].outputs["runners"]
    assert len(files) >= len(runners)
    tokens = [str(reveal(r.outputs["token"])) for r in plans["mixed"].resources if "token" in r.outputs]
    for path in files:
        text = path.read_text()
        assert text.startswith("#cloud-config"), path
        assert not any(t in text for t in tokens)


@pytest.mark.parametrize("stack", STACKS)
def test_no_perpetual_diff_when_the_program_runs_twice(plans, stack):
    again = plan.plan(plan.STACKS_DIR / f"Pulumi.{stack}.yaml")

    def inputs(result):
        return {r.urn: {k: v for k, v in reveal(r.inputs).items() if k != "__provider"} for r in result.resources}

    assert inputs(again) == inputs(plans[stack])


#: Oracle's Always Free idle-reclaim advisory (components/oci/pool.py): a fact of the account type every
#: free-tier OCI pool is told about, not a contradiction in the stack file.
ALWAYS_FREE_ADVISORY = re.compile(r"^pool '[a-z0-9-]+': Oracle reclaims \(stops\) Always Free instances")


def test_default_stack_plans_with_no_warning_about_itself(plans):
    result = plans[plan.DEFAULT_STACK]
    assert result.warnings == []
    # Oracle's reclaim advisory reaches the user as information about the free tier.
    assert [i for i in result.infos if ALWAYS_FREE_ADVISORY.match(i)]


def test_user_facing_text_speaks_the_users_language():
    root = Path(__file__).parents[2]
    files = [root / "README.md", root / "Makefile", *root.glob("docs/*.md"), *root.glob("stacks/*.yaml")]
    for path in files:
        text = path.read_text()
        assert not re.search(r"\bthe seed\b|\bseed's\b|\boption [0-9]\b", text, re.IGNORECASE), path
