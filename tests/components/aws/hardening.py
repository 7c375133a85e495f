"""Stack configs and hardening assertions shared by the `aws` and `emulated` pool tests.

Every assertion reads what the mock engine recorded (`PlanResult`): the inputs the program would send
to the AWS provider. Each one has a test that feeds it a weakened copy and expects it to fail.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
from collections.abc import Callable
from typing import Any

from tools.mockengine import PlanResult, Registered, is_secret, reveal
from tools.mockengine.engine import DYNAMIC_TYPE
from tools.mockengine.invokes_aws import ACCOUNT_ID, PARTITION

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
SPOT_REQUEST = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PARAMETER = "aws:ssm/parameter:Parameter"
VPC = "aws:ec2/vpc:Vpc"
EC2_USER_DATA_MAX_BYTES = 16 * 1024
REQUIRED_TAGS = (
    "Name",
    "arm64-runners:stack",
    "arm64-runners:pool",
    "arm64-runners:cloud",
    "arm64-runners:idle-action",
    "managed-by",
)

_BASE: dict[str, Any] = {
    "aws:region": "us-east-1",
    "github:owner": "tzervas",
    "github:token": {"secure": "v1:abc"},
    "arm64-runners:github": {"repository": "embeddenator"},
    "arm64-runners:runner": {"version": "2.331.0", "idleAction": "stop"},
    "arm64-runners:pools": [],
}


def aws_pool(**overrides: Any) -> dict[str, Any]:
    spec = {"name": "graviton", "cloud": "aws", "count": 2, "instanceType": "t4g.large", "diskGb": 60}
    spec.update(overrides)
    return spec


def emulated_pool(**overrides: Any) -> dict[str, Any]:
    spec = {"name": "qemu", "cloud": "emulated", "count": 1, "instanceType": "c7a.xlarge", "diskGb": 60}
    spec.update(overrides)
    return spec


def stack(*pools: dict[str, Any], aws: dict[str, Any] | None = None, runner: dict[str, Any] | None = None) -> dict:
    config = copy.deepcopy(_BASE)
    config["arm64-runners:pools"] = list(pools) or [aws_pool()]
    if aws:
        config["arm64-runners:aws"] = aws
    config["arm64-runners:runner"].update(runner or {})
    return config


def pool_resources(result: PlanResult, type_: str) -> list[Registered]:
    """Resources of `type_` that belong to the pools (not to the stack's wake function)."""
    return [r for r in result.by_type(type_) if "arm64-runners:aws:WakeFunction" not in r.parent_urn]


def hosts(result: PlanResult) -> list[Registered]:
    """The runner hosts: on-demand instances and persistent spot requests."""
    return result.by_type(INSTANCE) + result.by_type(SPOT_REQUEST)


def templates(result: PlanResult) -> list[Registered]:
    return result.by_type(LAUNCH_TEMPLATE)


def assert_instance_types(result: PlanResult, accepts: Callable[[str], bool]) -> None:
    found = [r.plain_inputs.get("instanceType") for r in templates(result)]
    assert found, "no launch template registered"
    wrong = [t for t in found if not accepts(str(t))]
    assert not wrong, f"launch templates with the wrong architecture: {wrong}"
    for host in hosts(result):
        assert "instanceType" not in host.plain_inputs or accepts(host.plain_inputs["instanceType"])


def assert_imdsv2(result: PlanResult, hop_limit: int = 1) -> None:
    assert templates(result), "no launch template registered"
    for template in templates(result):
        options = template.plain_inputs.get("metadataOptions") or {}
        assert options.get("httpTokens") == "required", f"{template.name}: IMDSv1 allowed"
        assert options.get("httpEndpoint") == "enabled", f"{template.name}: IMDS endpoint"
        assert int(options.get("httpPutResponseHopLimit", 0)) == hop_limit, f"{template.name}: hop limit"
    for host in hosts(result):
        # An instance-level override would win over the template: none may weaken it.
        override = host.plain_inputs.get("metadataOptions") or {}
        assert override.get("httpTokens", "required") == "required", f"{host.name}: IMDSv1 override"


def assert_encrypted_root(result: PlanResult, disk_gb: dict[str, int]) -> None:
    """`disk_gb`: pool name -> expected root volume size."""
    assert templates(result), "no launch template registered"
    for template in templates(result):
        pool = template.plain_inputs["tags"]["arm64-runners:pool"]
        mappings = template.plain_inputs.get("blockDeviceMappings") or []
        assert len(mappings) == 1, f"{template.name}: one root volume expected"
        ebs = mappings[0]["ebs"]
        assert mappings[0]["deviceName"] == "/dev/sda1"
        assert str(ebs.get("encrypted")).lower() == "true", f"{template.name}: root volume not encrypted"
        assert ebs.get("volumeType") == "gp3"
        assert int(ebs.get("volumeSize", 0)) == disk_gb[pool], f"{template.name}: root volume size"
    for host in hosts(result):
        root = host.plain_inputs.get("rootBlockDevice") or {}
        assert root.get("encrypted", True) is True, f"{host.name}: unencrypted root override"


def assert_no_ingress(result: PlanResult) -> None:
    groups = result.by_type(SECURITY_GROUP) + result.by_type(DEFAULT_SECURITY_GROUP)
    assert result.by_type(SECURITY_GROUP), "no security group registered"
    for group in groups:
        assert not group.plain_inputs.get("ingress"), f"{group.name}: has ingress rules"
    for kind in (
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    ):
        rules = [r for r in result.by_type(kind) if r.plain_inputs.get("type", "ingress") == "ingress"]
        assert not rules, f"ingress rule resources: {[r.name for r in rules]}"
    for template in templates(result):
        for interface in template.plain_inputs.get("networkInterfaces") or []:
            assert not interface.get("securityGroups"), f"{template.name}: other security groups"


def _statements(policy: Registered) -> list[dict[str, Any]]:
    document = json.loads(policy.plain_inputs["policy"])
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def handoffs(result: PlanResult) -> list[Registered]:
    """The runners' SSM hand-offs (components.aws.handoff.SsmHandoff, a dynamic resource)."""
    return [r for r in result.by_type(DYNAMIC_TYPE) if "parameter_name" in r.inputs]


def handoff_arn(handoff: Registered) -> str:
    inputs = handoff.plain_inputs
    return f"arn:{PARTITION}:ssm:{inputs['region']}:{ACCOUNT_ID}:parameter{inputs['parameter_name']}"


def assert_ssm_scoped(result: PlanResult) -> None:
    """Our IAM policies allow SSM parameter access on exact parameter ARNs only, never `*`, and each
    runner's policy denies every other parameter (the AWS-managed SSM core policy allows them all)."""
    policies = pool_resources(result, ROLE_POLICY)
    parameters = handoffs(result)
    assert policies and len(policies) == len(parameters), "one hand-off policy per runner expected"
    arns = {handoff_arn(p) for p in parameters}
    for policy in policies:
        allowed: list[str] = []
        denied_except: list[str] = []
        for statement in _statements(policy):
            actions = _as_list(statement.get("Action", []))
            if not any(str(a).lower().startswith(("ssm:", "kms:")) or a == "*" for a in actions):
                continue
            for resource in _as_list(statement.get("Resource", [])):
                assert "*" not in str(resource), f"{policy.name}: wildcard resource {resource!r}"
            if statement["Effect"] == "Allow":
                allowed.extend(_as_list(statement["Resource"]))
            else:
                denied_except.extend(_as_list(statement.get("NotResource", [])))
        assert len(allowed) == 1 and allowed[0] in arns, f"{policy.name}: not scoped to one token parameter"
        assert denied_except == allowed, f"{policy.name}: other parameters are not denied"
    assert len({a for p in policies for s in _statements(p) for a in _as_list(s.get("Resource", []))}) == len(arns)


def user_data_bytes(host: Registered) -> bytes:
    return base64.b64decode(reveal(host.inputs["userDataBase64"]))


def assert_user_data(result: PlanResult, token_of: Callable[[Registered], str] | None = None) -> None:
    """User-data is a secret, at most 16 KiB raw (gzipped), a cloud-config, and holds no token."""
    assert hosts(result), "no runner host registered"
    tokens = [str(reveal(p.inputs["value"])) for p in handoffs(result)]
    for host in hosts(result):
        raw = host.inputs.get("userDataBase64")
        assert is_secret(raw), f"{host.name}: user-data not secret"
        data = user_data_bytes(host)
        assert len(data) <= EC2_USER_DATA_MAX_BYTES, f"{host.name}: user-data {len(data)} bytes"
        text = gzip.decompress(data).decode()
        assert text.startswith("#cloud-config"), f"{host.name}: not a cloud-config"
        for token in tokens:
            assert token not in text, f"{host.name}: a registration token is in the user-data"
        assert host.plain_inputs.get("userDataReplaceOnChange") is True


def assert_tags(result: PlanResult, stack: str) -> None:
    for resource in templates(result) + hosts(result):
        tags = resource.plain_inputs.get("tags") or {}
        missing = [t for t in REQUIRED_TAGS if t not in tags]
        assert not missing, f"{resource.name}: missing tags {missing}"
        assert tags["arm64-runners:stack"] == stack and tags["managed-by"] == "arm64-runners"
    for template in templates(result):
        kinds = {spec["resourceType"] for spec in template.plain_inputs.get("tagSpecifications") or []}
        assert {"instance", "volume"} <= kinds, f"{template.name}: instances/volumes launched untagged"
