"""`make deployer-policy`: every resource type and invoke of every example plan (and of every stack
`make new-stack` writes) is covered; no wildcard action; every action is a real API of its service;
resource types the program will add are mapped already, and an unknown one fails loudly."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import botocore.session
import pytest

from tools import new_stack, plan
from tools.deployer_policy import aws, oci
from tools.deployer_policy.__main__ import main
from tools.deployer_policy.derive import (
    DYNAMIC_TYPE,
    MANAGED_POLICY_LIMIT,
    Unmapped,
    derive,
    physical_name,
    policy_size,
)
from tools.mockengine import PlanResult, Registered

EXAMPLES = sorted(p.name[7:-5] for p in plan.STACKS_DIR.glob("Pulumi.*.yaml"))
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaa4n3qbfy5wr7kvtlhqkz4w2wyrxn6lyjsbbxtnhdgsq3pgcmbfkqa"
#: IAM actions that are permissions without an API operation of the same name.
NOT_API_OPERATIONS = {"iam:PassRole"}


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, PlanResult]:
    """Every example stack, and every stack `make new-stack` writes (each cloud, repository and org)."""
    results = {name: plan.plan(plan.STACKS_DIR / f"Pulumi.{name}.yaml") for name in EXAMPLES}
    stacks = tmp_path_factory.mktemp("stacks")
    for cloud in new_stack.CLOUDS:
        for target in (["--repo", "widgets"], ["--organization"]):
            name = f"new-{cloud}-{target[0].strip('-')[:3]}"
            args = ["--stacks-dir", str(stacks), "--name", name, "--owner", "acme", *target]
            assert new_stack.main([*args, "--cloud", cloud, "--compartment", COMPARTMENT], {"HOME": "/x"}) == 0
            results[name] = plan.plan(stacks / f"Pulumi.{name}.yaml")
    for name, result in results.items():
        assert result.error is None, (name, result.error)
    return results


def all_actions(policy: dict) -> list[str]:
    return [a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]


def test_every_type_and_invoke_of_every_plan_is_covered(plans) -> None:
    for name, result in plans.items():
        derived = derive(result)  # raises Unmapped for anything the tables do not know
        items = {row.item for row in derived.rows}
        for resource in result.resources:
            if resource.type.startswith(("aws:", "oci:", "github:")):
                assert resource.type in items, (name, resource.type)
        for token, _ in result.invokes:
            if token.startswith(("aws:", "oci:")) and (aws.INVOKES.get(token) or oci.INVOKES.get(token)):
                assert f"invoke {token}" in items, (name, token)
        clouds = {p.cloud for p in result.config.pools}
        assert bool(derived.statements) == bool(clouds & {"aws", "emulated"}), name
        assert bool(derived.oci) == ("oci" in clouds), name


def test_no_wildcard_action_and_only_scoped_or_regional_resources(plans) -> None:
    for name, result in plans.items():
        policy = derive(result).policy()
        assert policy["Version"] == "2012-10-17"
        for action in all_actions(policy):
            assert "*" not in action, (name, action)
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow"
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if resources == ["*"]:
                region = result.config.aws.region
                assert statement["Condition"]["StringEquals"]["aws:RequestedRegion"] == region, (name, statement)
            else:
                assert all(r.startswith("arn:aws:") for r in resources), (name, statement)
        assert policy_size(policy) <= MANAGED_POLICY_LIMIT, name  # one managed policy is enough


def test_every_action_is_an_operation_of_its_service() -> None:
    session = botocore.session.get_session()
    operations: dict[str, set[str]] = {}
    grants = [g for table in (aws.TYPES, aws.INVOKES) for gs in table.values() for g in gs]
    grants += [g for _, _, gs in aws.DYNAMIC for g in gs]
    for grant in grants:
        assert grant.source and (grant.scope in (aws.REGIONAL, aws.GLOBAL) or grant.scope.startswith("arn:"))
        for action in grant.actions:
            if action in NOT_API_OPERATIONS:
                continue
            service, _, operation = action.partition(":")
            if service not in operations:
                operations[service] = set(session.get_service_model(service).operation_names)
            assert operation in operations[service], action


def test_iam_permissions_are_limited_to_the_plans_own_names(plans) -> None:
    policy = derive(plans["aws-graviton"]).policy()
    iam = [s for s in policy["Statement"] if any(a.startswith("iam:") for a in all_actions({"Statement": [s]}))]
    arns = {r for s in iam for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    assert arns == {
        "arn:aws:iam::*:role/pool-graviton-*-role-*",
        "arn:aws:iam::*:role/pool-large-*-role-*",
        "arn:aws:iam::*:instance-profile/pool-graviton-*-profile-*",
        "arn:aws:iam::*:instance-profile/pool-large-*-profile-*",
        "arn:aws:iam::*:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot",
        "arn:aws:iam::*:role/wake-role-*",  # the wake function's role (idleAction stop: wake on job)
    }
    attach = next(s for s in iam if "iam:AttachRolePolicy" in s["Action"])
    assert attach["Condition"] == {
        "ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}
    }
    puts = {
        resource
        for s in policy["Statement"]
        if "ssm:PutParameter" in s["Action"]
        for resource in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    }
    assert puts == {
        "arn:aws:ssm:us-east-1:*:parameter/arm64-runners/aws-graviton/*",
        "arn:aws:ssm:us-east-1:*:parameter/arm64-runners-wake/aws-graviton/*",
    }
    with_account = derive(plans["aws-graviton"], account="123456789012").policy()
    assert "arn:aws:iam::123456789012:role/pool-large-*-role-*" in json.dumps(with_account)


def test_oci_statements_name_the_stacks_compartment_and_the_group(plans) -> None:
    derived = derive(plans["oci-free"], oci_group="ci-deployers")
    assert derived.oci == [
        f"Allow group ci-deployers to inspect compartments in compartment id {COMPARTMENT}",
        f"Allow group ci-deployers to manage compute-capacity-reports in compartment id {COMPARTMENT}",
        f"Allow group ci-deployers to manage instance-family in compartment id {COMPARTMENT}",
        f"Allow group ci-deployers to manage virtual-network-family in compartment id {COMPARTMENT}",
        f"Allow group ci-deployers to manage volume-family in compartment id {COMPARTMENT}",
    ]
    tenancy = "ocid1.tenancy.oc1..aaaaaaaa7mockmockmockmockmockmockmockmockmockmockmockmockm"
    result = plans["oci-free"]
    assert result.config is not None and result.config.oci is not None
    with_tenancy = replace(result, config=replace(result.config, oci=replace(result.config.oci, tenancy_id=tenancy)))
    assert (
        "Allow group arm64-runners-deployers to manage compute-capacity-reports in tenancy" in derive(with_tenancy).oci
    )


def resource(type_: str, name: str, inputs: dict | None = None) -> Registered:
    urn = f"urn:pulumi:dev::arm64-runners::{type_}::{name}"
    return Registered(type_, name, urn, "", True, inputs or {}, {})


#: Resource types other branches add, with the inputs their components give them.
COMING = [
    resource("aws:lambda/function:Function", "wake-function", {"name": "arm64-runners-dev-wake"}),
    resource("aws:lambda/functionUrl:FunctionUrl", "wake-url", {"functionName": "arm64-runners-dev-wake"}),
    resource("aws:lambda/permission:Permission", "wake-invoke", {"function": "arm64-runners-dev-wake"}),
    resource("aws:cloudwatch/logGroup:LogGroup", "wake-logs", {"name": "/aws/lambda/arm64-runners-dev-wake"}),
    resource("aws:iam/role:Role", "wake-role"),
    resource("aws:ssm/parameter:Parameter", "wake-secret-param", {"name": "/arm64-runners/aws-graviton/wake"}),
    resource("aws:secretsmanager/secret:Secret", "wake-webhook-secret"),
    resource("aws:secretsmanager/secretVersion:SecretVersion", "wake-webhook-secret-value"),
    resource("github:index/repositoryWebhook:RepositoryWebhook", "wake-hook"),
    resource("github:index/organizationWebhook:OrganizationWebhook", "wake-org-hook"),
    resource(
        DYNAMIC_TYPE,
        "pool-graviton-0-handoff",
        {"parameter_name": "/arm64-runners/aws-graviton/arm64-aws-graviton-graviton-0/token", "region": "us-east-1"},
    ),
]


def test_types_other_branches_add_are_mapped_already(plans) -> None:
    base = plans["aws-graviton"]
    future = replace(base, resources=[*base.resources, *COMING])
    derived = derive(future)
    policy = derived.policy()
    text = json.dumps(policy)
    assert "arn:aws:lambda:us-east-1:*:function:arm64-runners-dev-wake" in text
    assert "arn:aws:logs:us-east-1:*:log-group:/aws/lambda/arm64-runners-dev-wake" in text
    assert "arn:aws:secretsmanager:us-east-1:*:secret:wake-webhook-secret-*" in text
    lambda_pass = next(
        s for s in policy["Statement"] if s.get("Condition", {}).get("StringEquals", {}).get("iam:PassedToService")
    )
    assert lambda_pass["Action"] == ["iam:PassRole"] and "role/wake-role-*" in json.dumps(lambda_pass["Resource"])
    rows = {row.item: row for row in derived.rows}
    assert rows["github:index/repositoryWebhook:RepositoryWebhook"].needs == "the GitHub token only"
    # The hand-off, recognised by its inputs: write, tag and delete under the stack's own path, KMS via SSM.
    handoff = [r for r in derived.rows if r.item == "dynamic: AWS token hand-off (SSM SecureString)"]
    assert [r.needs for r in handoff] == [
        "ssm:PutParameter, ssm:DeleteParameter, ssm:AddTagsToResource",
        "kms:Encrypt, kms:GenerateDataKey",
    ]
    kms = [s for s in policy["Statement"] if "kms:Encrypt" in s["Action"]]
    assert {s["Condition"]["StringEquals"]["kms:ViaService"] for s in kms} == {
        "ssm.us-east-1.amazonaws.com",
        "secretsmanager.us-east-1.amazonaws.com",
    }
    for action in all_actions(policy):
        assert "*" not in action


def test_a_policy_too_big_for_one_managed_policy_is_split_whole_statements_each(plans) -> None:
    derived = derive(plans["mixed"])
    documents = derived.policies(limit=1500)
    assert len(documents) > 1
    assert all(policy_size(d) <= 1500 for d in documents if len(d["Statement"]) > 1)
    assert [s for d in documents for s in d["Statement"]] == derived.statements
    assert derived.policies() == [derived.policy()]


@pytest.mark.parametrize(
    "extra",
    [
        resource("aws:s3/bucket:Bucket", "cache"),
        resource("oci:Core/volume:Volume", "scratch"),
        resource(DYNAMIC_TYPE, "mystery", {"endpoint": "x"}),
        resource("kubernetes:core/v1:Pod", "runner"),
    ],
    ids=lambda r: r.type,
)
def test_an_unmapped_type_fails(plans, extra: Registered) -> None:
    base = plans["mixed"]
    with pytest.raises(Unmapped, match=re.escape(extra.name if extra.type == DYNAMIC_TYPE else extra.type)):
        derive(replace(base, resources=[*base.resources, extra]))


def test_an_unmapped_invoke_fails(plans) -> None:
    base = plans["aws-graviton"]
    with pytest.raises(Unmapped, match="aws:ec2/getVpc:getVpc"):
        derive(replace(base, invokes=[*base.invokes, ("aws:ec2/getVpc:getVpc", {})]))


def test_physical_names() -> None:
    assert physical_name(resource("aws:iam/role:Role", "pool-graviton-12-role")) == "pool-graviton-*-role-*"
    assert physical_name(resource("aws:iam/role:Role", "x", {"name": "exact"})) == "exact"
    assert physical_name(resource("aws:iam/role:Role", "x", {"namePrefix": "pre-"})) == "pre-*"


def test_command_prints_the_policy_the_oci_statements_and_the_sources(capsys) -> None:
    assert main(["--stack", "mixed", "--part", "aws"]) == 0
    policy = json.loads(capsys.readouterr().out)
    assert policy["Statement"]
    assert main(["--stack", "mixed", "--part", "oci", "--oci-group", "deployers"]) == 0
    assert all(line.startswith("Allow group deployers to ") for line in capsys.readouterr().out.splitlines())
    assert main(["--stack", "mixed"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# AWS IAM policy for the identity that runs pulumi up/destroy on stack mixed (us-east-1)")
    assert "# OCI policy statements for stack mixed" in out
    assert main(["--stack", "mixed", "--part", "sources"]) == 0
    table = capsys.readouterr().out
    assert (
        "| `aws:ec2/vpc:Vpc` | ec2:CreateVpc," in table
        and "terraform-provider-aws internal/service/ec2/vpc_.go" in table
    )


def test_command_refuses_an_invalid_stack(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text("config:\n  arm64-runners:pools: 3\n")
    assert main(["--stack-file", str(bad)]) == 2
    assert "invalid stack configuration" in capsys.readouterr().err
