"""From a stack's offline plan to the deployer's AWS IAM policy and OCI statements.

Every resource type and every invoke of the plan must be known: an AWS/OCI one is looked up in the
tables, a GitHub one needs only the GitHub token (README, "GitHub permissions"), the project's own
component types and provider resources call nothing. Anything else raises `Unmapped`, so a resource
type added to the program without a table entry fails `make deployer-policy` and the tests, instead of
producing a policy that breaks `pulumi up` (or one padded with wildcards).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tools.deployer_policy import aws, oci
from tools.mockengine import PlanResult, Registered, reveal

DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"
#: Types that make no cloud call of their own: the program's components and explicit providers.
NO_CALLS = re.compile(r"^(arm64-runners:[^:]+:[A-Za-z]+|pulumi:providers:[a-z-]+)$")
GITHUB = re.compile(r"^github:")
#: IAM's size limit for a customer managed policy (characters, whitespace excluded).
MANAGED_POLICY_LIMIT = 6144
#: Placeholders that expand to the physical names of the plan's resources of one type.
NAMED = {
    "role": "aws:iam/role:Role",
    "function": "aws:lambda/function:Function",
    "secret": "aws:secretsmanager/secret:Secret",
}


class Unmapped(Exception):
    """A resource type, invoke or dynamic resource the tables do not cover."""


@dataclass(frozen=True)
class Row:
    """One line of the sources table: what a plan item needs and why."""

    item: str
    needs: str
    source: str


@dataclass
class Derived:
    statements: list[dict[str, Any]] = field(default_factory=list)
    oci: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    def policy(self) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": self.statements}

    def policies(self, limit: int = MANAGED_POLICY_LIMIT) -> list[dict[str, Any]]:
        """The policy as managed-policy documents of at most `limit` characters each (whitespace
        excluded, as IAM counts), statements kept whole: one document unless the stack needs more."""
        documents: list[list[dict[str, Any]]] = [[]]
        for statement in self.statements:
            candidate = {"Version": "2012-10-17", "Statement": [*documents[-1], statement]}
            if documents[-1] and policy_size(candidate) > limit:
                documents.append([])
            documents[-1].append(statement)
        return [{"Version": "2012-10-17", "Statement": statements} for statements in documents if statements]


def policy_size(document: dict[str, Any]) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def physical_name(resource: Registered) -> str:
    """The name AWS will know the resource by: its `name` input, else Pulumi's auto-name
    (`<logical name>-<7 random hex>`), with runner indexes generalised so a count change needs no
    new policy (`pool-graviton-0-role` -> `pool-graviton-*-role-*`)."""
    inputs = reveal(resource.inputs)
    if isinstance(inputs.get("name"), str) and inputs["name"]:
        return str(inputs["name"])
    if isinstance(inputs.get("namePrefix"), str) and inputs["namePrefix"]:
        return str(inputs["namePrefix"]) + "*"
    return re.sub(r"-\d+(?=-|$)", "-*", resource.name) + "-*"


def _names(resources: Iterable[Registered], type_: str) -> list[str]:
    return sorted({physical_name(r) for r in resources if r.type == type_})


def _expand(template: str, values: Mapping[str, str], lists: Mapping[str, list[str]]) -> list[str]:
    text = template
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    for key, names in lists.items():
        if "{" + key + "}" in text:
            return [text.replace("{" + key + "}", name) for name in names]
    return [text]


def _fill(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        for key, text in values.items():
            value = value.replace("{" + key + "}", text)
        return value
    if isinstance(value, Mapping):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def _dynamic_grants(resource: Registered) -> tuple[str, tuple[aws.Grant, ...]]:
    inputs = reveal(resource.inputs)
    for what, matches, grants in aws.DYNAMIC:
        if matches(inputs):
            return what, grants
    keys = ", ".join(sorted(k for k in inputs if not k.startswith("__")))
    raise Unmapped(f"dynamic resource {resource.name} (inputs: {keys}) is not in tools/deployer_policy/aws.py DYNAMIC")


class _Builder:
    def __init__(self, result: PlanResult, region: str, account: str, group: str):
        config = result.config
        self.result = result
        self.values = {
            "partition": partition_of(region),
            "region": region,
            "account": account,
            "stack": result.stack,
        }
        self.lists = {key: _names(result.resources, type_) for key, type_ in NAMED.items()}
        compartment = config.oci.compartment_id if config and config.oci else ""
        capacity = config.oci.capacity_compartment_id if config and config.oci else ""
        self.oci_values = {
            "group": group,
            "compartment": f"compartment id {compartment}",
            "capacity": "tenancy" if capacity.startswith("ocid1.tenancy.") else f"compartment id {capacity}",
        }
        #: (resources, condition json) -> actions
        self.grouped: dict[tuple[tuple[str, ...], str], set[str]] = {}
        self.derived = Derived()

    def add_grants(self, item: str, grants: Iterable[aws.Grant], resources: list[Registered]) -> None:
        grants = tuple(grants)
        if not grants:
            return
        for grant in grants:
            values = dict(self.values)
            lists = dict(self.lists)
            lists["name"] = sorted({physical_name(r) for r in resources})
            if grant.scope in (aws.REGIONAL, aws.GLOBAL):
                arns = ["*"]
            else:
                arns = sorted({arn for a in [grant.scope] for arn in _expand(a, values, lists)})
            condition = {op: dict(_fill(keys, values)) for op, keys in grant.condition.items()}
            if grant.scope == aws.REGIONAL:
                condition.setdefault("StringEquals", {})["aws:RequestedRegion"] = values["region"]
            if grant.condition_from_inputs:
                op, key, name = grant.condition_from_inputs
                found = sorted({str(reveal(r.inputs).get(name)) for r in resources})
                condition.setdefault(op, {})[key] = found if len(found) > 1 else found[0]
            group_key = (tuple(arns), json.dumps(condition, sort_keys=True))
            self.grouped.setdefault(group_key, set()).update(grant.actions)
            self._row(Row(item, ", ".join(grant.actions), grant.source))

    def _row(self, row: Row) -> None:
        if row not in self.derived.rows:
            self.derived.rows.append(row)

    def add_oci(self, item: str, statements: Iterable[tuple[str, str]]) -> None:
        for statement, source in statements:
            self.derived.oci.append(statement.format(**self.oci_values))
            self._row(Row(item, statement.format(**self.oci_values), source))

    def finish(self) -> Derived:
        statements = []
        for (arns, condition_json), actions in sorted(self.grouped.items()):
            statement: dict[str, Any] = {
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": list(arns) if len(arns) > 1 else arns[0],
            }
            condition = json.loads(condition_json)
            if condition:
                statement["Condition"] = condition
            statements.append(statement)
        self.derived.statements = sorted(statements, key=lambda s: (s["Action"][0], str(s["Resource"])))
        self.derived.oci = sorted(set(self.derived.oci) - set(_subsumed(self.derived.oci)))
        return self.derived


#: OCI resource-types that an aggregate ("family") covers: `manage <family>` subsumes them.
_FAMILY = {"instance-images": "instance-family"}
_STATEMENT = re.compile(
    r"^Allow group (?P<group>\S+) to (?P<verb>inspect|read|use|manage) (?P<what>\S+) in (?P<where>.+)$"
)


def _subsumed(statements: list[str]) -> list[str]:
    """Statements a `manage` statement on the same (or the aggregate) resource-type and place covers."""
    managed = {(m["what"], m["where"]) for s in statements if (m := _STATEMENT.match(s)) and m["verb"] == "manage"}
    out = []
    for statement in statements:
        m = _STATEMENT.match(statement)
        covered = m and ((m["what"], m["where"]) in managed or (_FAMILY.get(m["what"]), m["where"]) in managed)
        if m and m["verb"] != "manage" and covered:
            out.append(statement)
    return out


def derive(result: PlanResult, *, account: str = "*", oci_group: str = "arm64-runners-deployers") -> Derived:
    """The deployer's permissions for the plan `result` (a valid stack's offline plan)."""
    if result.config is None:
        raise ValueError("the stack is invalid: plan it first (make plan)")
    region = result.config.aws.region or "*"
    builder = _Builder(result, region, account, oci_group)
    by_type: dict[str, list[Registered]] = {}
    for resource in result.resources:
        by_type.setdefault(resource.type, []).append(resource)
    for type_, resources in sorted(by_type.items()):
        if type_ == DYNAMIC_TYPE:
            for resource in resources:
                what, grants = _dynamic_grants(resource)
                builder.add_grants(f"dynamic: {what}", grants, [resource])
                if not grants:
                    builder._row(Row(f"dynamic: {what}", "no AWS or OCI permission", "-"))
        elif type_ in aws.TYPES:
            builder.add_grants(type_, aws.TYPES[type_], resources)
        elif type_ in oci.TYPES:
            builder.add_oci(type_, oci.TYPES[type_])
        elif GITHUB.match(type_):
            builder._row(Row(type_, "the GitHub token only", "README.md, GitHub permissions"))
        elif not NO_CALLS.match(type_):
            raise Unmapped(f"resource type {type_} is not in tools/deployer_policy (aws.py TYPES or oci.py TYPES)")
    for token in sorted({token for token, _ in result.invokes}):
        if token in aws.INVOKES:
            builder.add_grants(f"invoke {token}", aws.INVOKES[token], [])
        elif token in oci.INVOKES:
            builder.add_oci(f"invoke {token}", oci.INVOKES[token])
        elif not GITHUB.match(token):
            raise Unmapped(f"invoke {token} is not in tools/deployer_policy (aws.py INVOKES or oci.py INVOKES)")
    return builder.finish()
