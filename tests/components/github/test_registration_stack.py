"""Registrations inside the real program, under the project's mock engine."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from components.config.load import read_stack_file
from components.github.provider import RunnerRegistrationProvider
from tools.mockengine import MOCK_SECRET, PlanResult, Registered, reveal, run_stack
from tools.plan import to_json

STACK_FILE = Path(__file__).resolve().parents[3] / "stacks" / "Pulumi.aws-graviton.yaml"
DYNAMIC = "pulumi-python:dynamic:Resource"
#: What a runner host is on AWS: an on-demand instance, or a spot request for spot pools.
HOST_TYPES = ("aws:ec2/instance:Instance", "aws:ec2/spotInstanceRequest:SpotInstanceRequest")


def stack_values() -> dict[str, Any]:
    raw = read_stack_file(STACK_FILE)
    values = copy.deepcopy(dict(raw.values))
    values["github:token"] = {"secure": "v1:stack-credential"}
    return values


def run(values: dict[str, Any]) -> PlanResult:
    result = run_stack("aws-graviton", values)
    assert result.error is None, result.error
    return result


def registrations(result: PlanResult) -> dict[str, Registered]:
    return {r.name: r for r in result.by_type(DYNAMIC) if "runner_name" in r.plain_inputs}


def hosts(result: PlanResult) -> dict[str, dict[str, Any]]:
    return {r.name: reveal(r.inputs) for r in result.resources if r.type in HOST_TYPES}


@pytest.fixture(scope="module")
def baseline() -> PlanResult:
    """One run of the stack as its file says, shared by the tests that only read it."""
    return run(stack_values())


def test_the_stack_has_one_registration_per_runner(baseline: PlanResult) -> None:
    found = registrations(baseline)
    names = sorted(reveal(r.inputs)["runner_name"] for r in found.values())
    assert names == ["arm64-aws-graviton-graviton-0", "arm64-aws-graviton-graviton-1", "arm64-aws-graviton-large-0"]


def test_running_the_program_twice_gives_identical_registration_and_instance_inputs(baseline: PlanResult) -> None:
    first, second = baseline, run(stack_values())
    first_regs, second_regs = registrations(first), registrations(second)
    assert first_regs.keys() == second_regs.keys() and len(first_regs) == 3
    for name, reg in first_regs.items():
        assert reveal(reg.inputs) == reveal(second_regs[name].inputs), name
    first_hosts, second_hosts = hosts(first), hosts(second)
    assert len(first_hosts) == 3 and first_hosts == second_hosts
    # What the provider would say on the second run: nothing, for every registration.
    provider = RunnerRegistrationProvider()
    for name, reg in first_regs.items():
        diff = provider.diff("id", reveal(reg.outputs), reveal(second_regs[name].inputs))
        assert diff.changes is False, name


def test_changing_a_pools_labels_replaces_its_registrations_and_instances_only(baseline: PlanResult) -> None:
    before = baseline
    values = stack_values()
    graviton = next(p for p in values["arm64-runners:pools"] if p["name"] == "graviton")
    graviton["labels"] = ["fast"]
    after = run(values)
    provider = RunnerRegistrationProvider()
    old, new = registrations(before), registrations(after)
    for name, reg in old.items():
        diff = provider.diff("id", reveal(reg.outputs), reveal(new[name].inputs))
        runner = reveal(reg.inputs)["runner_name"]
        if runner.startswith("arm64-aws-graviton-graviton-"):
            assert diff.changes is True and diff.delete_before_replace is True
            assert {"labels", "replacement_fingerprint"} <= set(diff.replaces), runner
        else:
            assert diff.changes is False, runner
    old_hosts, new_hosts = hosts(before), hosts(after)
    changed = sorted(name for name in old_hosts if old_hosts[name] != new_hosts[name])
    assert changed == ["pool-graviton-0-instance", "pool-graviton-1-instance"]


def test_tokens_never_appear_in_the_plan_json_or_plain_outputs(baseline: PlanResult) -> None:
    result = baseline
    tokens = [reveal(r.outputs)["token"] for r in registrations(result).values()]
    assert len(tokens) == 3 and all(t.startswith("AAMOCK") for t in tokens)
    document = json.dumps(to_json(result))
    plain_outputs = json.dumps({k: v for k, v in result.outputs.items() if k not in result.secret_outputs}, default=str)
    for token in tokens:
        assert token not in document
        assert token not in plain_outputs
    assert MOCK_SECRET not in document and MOCK_SECRET not in plain_outputs
