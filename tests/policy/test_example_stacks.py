"""The policy pack over what the real program registers for the example stacks (mock engine)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from policy import validators as v
from tools.mockengine import reveal
from tools.plan import plan

ROOT = Path(__file__).resolve().parents[2]
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))


@cache
def resources(stack: str) -> tuple[tuple[str, str, Any], ...]:
    """(type, name, inputs) with secrets unwrapped, as the analyzer hands them to validators."""
    result = plan(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    assert result.error is None, result.error
    return tuple((r.type, r.name, reveal(r.inputs)) for r in result.resources if r.custom)


def violations(stack: str, rule: v.Rule) -> list[str]:
    return [f"{name}: {m}" for kind, name, props in resources(stack) for m in rule.check(kind, props, {})]


MANDATORY_EXCEPT_TYPES = [r for r in v.RESOURCE_RULES if r.mandatory and r.name != "arm64-instance-types"]


@pytest.mark.parametrize("rule", MANDATORY_EXCEPT_TYPES, ids=lambda r: r.name)
@pytest.mark.parametrize("stack", STACKS)
def test_example_stacks_pass_mandatory_rules(stack: str, rule: v.Rule) -> None:
    assert violations(stack, rule) == []


@pytest.mark.parametrize("stack", STACKS)
def test_rules_see_the_compute_they_guard(stack: str) -> None:
    kinds = {kind for kind, _, _ in resources(stack)}
    assert kinds & set(v.COMPUTE), "no compute resource reached the validators"


@pytest.mark.parametrize("stack", [s for s in STACKS if s != "oci-free"])
def test_user_data_reaches_the_user_data_rule(stack: str) -> None:
    payloads = [v.user_data_bytes(kind, props) for kind, _, props in resources(stack) if kind in v.COMPUTE]
    assert any(p for p in payloads), "no user-data seen: the credential scan would check nothing"


def test_native_pools_pass_the_arm64_rule() -> None:
    rule = next(r for r in v.RESOURCE_RULES if r.name == "arm64-instance-types")
    assert violations("aws-graviton", rule) == []
    assert violations("oci-free", rule) == []


@pytest.mark.parametrize("stack", ["emulated", "mixed"])
def test_emulated_pools_pass_the_arm64_rule(stack: str) -> None:
    rule = next(r for r in v.RESOURCE_RULES if r.name == "arm64-instance-types")
    assert violations(stack, rule) == []


def test_oci_free_stack_within_free_tier() -> None:
    assert v.check_free_tier([(kind, props) for kind, _, props in resources("oci-free")], {}) == []
