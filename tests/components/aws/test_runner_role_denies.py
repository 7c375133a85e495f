"""Every runner role explicitly denies every Parameter Store action on every parameter but its own.

`AmazonSSMManagedInstanceCore` (attached for Session Manager) allows `ssm:GetParameter` and
`ssm:GetParameters` on `*`; only an explicit Deny takes that back, and an explicit Deny also holds if AWS
widens the managed policy later. So the complete list is checked, not only the actions the managed
policy grants today: dropping any one of them from the Deny must fail here.

The list is the test's own, from the AWS Service Authorization Reference (Systems Manager: actions on the
`parameter` resource type that read or change a parameter, its versions or their labels), not the
program's constant. The check evaluates the recorded IAM documents as IAM does (wildcards in actions and
resources, Resource/NotResource) for a sibling parameter, so it holds whatever shape the policies take.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from collections.abc import Iterable
from typing import Any

import pytest

from tests.components.aws import hardening as h
from tools.mockengine import PlanResult, Registered, reveal, run_stack

PARAMETER_ACTIONS = (
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
    "ssm:PutParameter",
    "ssm:DeleteParameter",
    "ssm:DeleteParameters",
    "ssm:LabelParameterVersion",
    "ssm:UnlabelParameterVersion",
)
POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")


@pytest.fixture(scope="module")
def plan() -> PlanResult:
    result = run_stack("dev", h.stack(h.aws_pool(count=2), h.emulated_pool(count=1)))
    assert result.error is None, result.error
    return result


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(resource: Registered) -> list[dict[str, Any]]:
    document = reveal(resource.inputs.get("policy"))
    if not isinstance(document, str):
        return []
    statements = json.loads(document).get("Statement", [])
    return _as_list(statements)


def _matches(patterns: Iterable[str], value: str, *, ignore_case: bool = False) -> bool:
    if ignore_case:
        return any(fnmatch.fnmatchcase(value.lower(), str(p).lower()) for p in patterns)
    return any(fnmatch.fnmatchcase(value, str(p)) for p in patterns)


def explicitly_denied(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """True when one Deny statement covers `action` on `resource` (IAM: Action/NotAction, Resource/NotResource)."""
    for statement in statements:
        if statement.get("Effect") != "Deny" or statement.get("Condition"):
            continue
        if "Action" in statement:
            action_ok = _matches(_as_list(statement["Action"]), action, ignore_case=True)
        else:
            action_ok = not _matches(_as_list(statement.get("NotAction", [])), action, ignore_case=True)
        if "Resource" in statement:
            resource_ok = _matches(_as_list(statement["Resource"]), resource)
        else:
            resource_ok = not _matches(_as_list(statement.get("NotResource", [])), resource)
        if action_ok and resource_ok:
            return True
    return False


def _own_parameter(statements: list[dict[str, Any]]) -> str:
    """The one parameter ARN the role's Allow statements grant."""
    granted = {
        str(r)
        for s in statements
        if s.get("Effect") == "Allow" and any(str(a).lower().startswith("ssm:") for a in _as_list(s.get("Action", [])))
        for r in _as_list(s.get("Resource", []))
    }
    assert len(granted) == 1, f"expected one granted parameter, got {granted}"
    return granted.pop()


def assert_other_parameters_denied(result: PlanResult) -> None:
    policies = [r for t in POLICY_TYPES for r in h.pool_resources(result, t)]
    assert policies, "no IAM policy registered"
    runners = 0
    for policy in policies:
        statements = _statements(policy)
        if not any(str(a).lower().startswith("ssm:") for s in statements for a in _as_list(s.get("Action", []))):
            continue
        runners += 1
        own = _own_parameter(statements)
        account_prefix = own.split(":parameter/")[0]
        for sibling in (own + "-sibling", f"{account_prefix}:parameter/other-stack/token", own.rsplit("/", 1)[0]):
            missing = [a for a in PARAMETER_ACTIONS if not explicitly_denied(statements, a, sibling)]
            assert not missing, f"{policy.name}: {missing} not denied on {sibling}"
        for action in _allowed(statements, own):
            assert not explicitly_denied(statements, action, own), f"{policy.name}: denies its own {action}"
    assert runners == len(h.hosts(result)), "every runner host has a role policy for its own token"


def _allowed(statements: list[dict[str, Any]], resource: str) -> set[str]:
    return {
        str(a)
        for s in statements
        if s.get("Effect") == "Allow" and _matches(_as_list(s.get("Resource", [])), resource)
        for a in _as_list(s.get("Action", []))
    }


def test_every_parameter_action_is_denied_on_every_other_parameter(plan: PlanResult) -> None:
    assert_other_parameters_denied(plan)


def _tampered(result: PlanResult, change: Any) -> PlanResult:
    copied = copy.deepcopy(result)
    for policy in [r for t in POLICY_TYPES for r in h.pool_resources(copied, t)]:
        document = json.loads(reveal(policy.inputs["policy"]))
        statements = _as_list(document["Statement"])
        if any(s.get("Effect") == "Deny" for s in statements):
            change(statements)
            document["Statement"] = statements
            policy.inputs = {**reveal(policy.inputs), "policy": json.dumps(document)}
            return copied
    raise AssertionError("no Deny statement to tamper with")


@pytest.mark.parametrize("dropped", PARAMETER_ACTIONS)
def test_dropping_any_action_from_the_deny_fails(plan: PlanResult, dropped: str) -> None:
    def drop(statements: list[dict[str, Any]]) -> None:
        for statement in statements:
            if statement.get("Effect") == "Deny":
                statement["Action"] = [a for a in _as_list(statement["Action"]) if a != dropped]

    with pytest.raises(AssertionError, match=dropped):
        assert_other_parameters_denied(_tampered(plan, drop))


def test_a_deny_that_spares_a_wildcard_of_parameters_fails(plan: PlanResult) -> None:
    def widen(statements: list[dict[str, Any]]) -> None:
        for statement in statements:
            if statement.get("Effect") == "Deny":
                statement["NotResource"] = [str(r) + "*" for r in _as_list(statement["NotResource"])]

    with pytest.raises(AssertionError, match="not denied"):
        assert_other_parameters_denied(_tampered(plan, widen))
