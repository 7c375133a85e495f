"""Each policy rule with a compliant and a violating resource, through the validators directly."""

from __future__ import annotations

import base64
import gzip
import io
import json
import runpy
import tarfile
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from policy import validators as v

ROOT = Path(__file__).resolve().parents[2]
AWS_TAGS = {
    "Name": "arm64-dev-a-0",
    v.TAG_STACK: "dev",
    v.TAG_POOL: "a",
    v.TAG_MANAGED_BY: "arm64-runners",
}
OCI_TAGS = {v.TAG_STACK: "dev", v.TAG_POOL: "free", v.TAG_MANAGED_BY: "arm64-runners"}
CLOUD_CONFIG = "#cloud-config\nruncmd:\n  - [/opt/arm64-runners/bootstrap.sh]\n"


def aws_instance(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "instanceType": "t4g.medium",
        "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
        "rootBlockDevice": {"encrypted": True, "volumeSize": 50},
        "userDataBase64": base64.b64encode(gzip.compress(CLOUD_CONFIG.encode())).decode(),
        "tags": {**AWS_TAGS, v.TAG_IDLE_ACTION: "stop"},
    }
    props.update(overrides)
    return props


def oci_instance(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "shape": "VM.Standard.A1.Flex",
        "shapeConfig": {"ocpus": 4, "memoryInGbs": 24},
        "sourceDetails": {"sourceType": "image", "bootVolumeSizeInGbs": "100"},
        "instanceOptions": {"areLegacyImdsEndpointsDisabled": True},
        "metadata": {"user_data": base64.b64encode(CLOUD_CONFIG.encode()).decode()},
        "freeformTags": dict(OCI_TAGS),
    }
    props.update(overrides)
    return props


def policy_args(resource_type: str, props: dict[str, Any], config: dict[str, Any] | None = None) -> Any:
    opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    urn = f"urn:pulumi:dev::arm64-runners::{resource_type}::r"
    return ResourceValidationArgs(resource_type, props, urn, "r", opts, None, config)


def report(rule: v.Check, resource_type: str, props: dict[str, Any]) -> list[str]:
    """Runs `rule` the way the analyzer does, through the pulumi-policy adapter."""
    messages: list[str] = []
    v.resource_validator(rule)(policy_args(resource_type, props), lambda m, urn=None: messages.append(m))
    return messages


# --- arm64 instance types ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["t4g.medium", "m7g.large", "c7g.xlarge", "m8g.2xlarge"])
def test_graviton_types_pass(kind: str) -> None:
    assert report(v.check_arm64_compute, v.AWS_INSTANCE, aws_instance(instanceType=kind)) == []


@pytest.mark.parametrize("kind", ["t3.large", "c7a.large", "m7i.large"])
def test_x86_types_fail_outside_emulated_pools(kind: str) -> None:
    (message,) = report(v.check_arm64_compute, v.AWS_INSTANCE, aws_instance(instanceType=kind))
    assert kind in message and "Graviton" in message


def test_emulated_pool_is_x86_and_must_be() -> None:
    tags = {**AWS_TAGS, v.TAG_CLOUD: "emulated"}
    assert (
        report(
            v.check_arm64_compute,
            v.AWS_INSTANCE,
            aws_instance(instanceType="c7a.large", tags=tags),
        )
        == []
    )
    (message,) = report(
        v.check_arm64_compute,
        v.AWS_INSTANCE,
        aws_instance(instanceType="c7g.large", tags=tags),
    )
    assert "x86_64" in message


def test_oci_shape() -> None:
    assert report(v.check_arm64_compute, v.OCI_INSTANCE, oci_instance()) == []
    (message,) = report(v.check_arm64_compute, v.OCI_INSTANCE, oci_instance(shape="VM.Standard.E4.Flex"))
    assert "VM.Standard.E4.Flex" in message


def test_launch_template_type_checked() -> None:
    props = {"instanceType": "t3.large", "tags": AWS_TAGS}
    assert report(v.check_arm64_compute, v.AWS_LAUNCH_TEMPLATE, props)


# --- IMDSv2 --------------------------------------------------------------------------------------


def test_imdsv2_required() -> None:
    assert report(v.check_imdsv2, v.AWS_INSTANCE, aws_instance()) == []
    assert report(
        v.check_imdsv2,
        v.AWS_INSTANCE,
        aws_instance(metadataOptions={"httpTokens": "optional"}),
    )
    (message,) = report(v.check_imdsv2, v.AWS_SPOT_REQUEST, aws_instance(metadataOptions=None))
    assert "unset" in message


def test_oci_legacy_imds_disabled() -> None:
    assert report(v.check_imdsv2, v.OCI_INSTANCE, oci_instance()) == []
    assert report(v.check_imdsv2, v.OCI_INSTANCE, oci_instance(instanceOptions={}))


# --- encryption ----------------------------------------------------------------------------------


def test_encrypted_root_and_data_volumes() -> None:
    assert report(v.check_encrypted_volumes, v.AWS_INSTANCE, aws_instance()) == []
    assert report(
        v.check_encrypted_volumes,
        v.AWS_INSTANCE,
        aws_instance(rootBlockDevice={"volumeSize": 50}),
    )
    data = aws_instance(ebsBlockDevices=[{"deviceName": "/dev/sdf", "encrypted": False}])
    assert report(v.check_encrypted_volumes, v.AWS_INSTANCE, data) == ["ebsBlockDevices[0].encrypted must be true"]


def test_encrypted_launch_template_and_volume() -> None:
    good = {"blockDeviceMappings": [{"deviceName": "/dev/sda1", "ebs": {"encrypted": "true"}}]}
    assert report(v.check_encrypted_volumes, v.AWS_LAUNCH_TEMPLATE, good) == []
    assert report(v.check_encrypted_volumes, v.AWS_LAUNCH_TEMPLATE, {"blockDeviceMappings": []})
    assert report(v.check_encrypted_volumes, v.AWS_VOLUME, {"encrypted": True, "size": 50}) == []
    assert report(v.check_encrypted_volumes, v.AWS_VOLUME, {"size": 50})


# --- ingress -------------------------------------------------------------------------------------


def test_security_group_ingress() -> None:
    egress_only = {
        "egress": [
            {
                "protocol": "tcp",
                "fromPort": 443,
                "toPort": 443,
                "cidrBlocks": ["0.0.0.0/0"],
            }
        ]
    }
    assert report(v.check_no_open_ingress, v.AWS_SECURITY_GROUP, egress_only) == []
    admin = {
        "ingress": [
            {
                "protocol": "tcp",
                "fromPort": 22,
                "toPort": 22,
                "cidrBlocks": ["203.0.113.0/24"],
            }
        ]
    }
    assert report(v.check_no_open_ingress, v.AWS_SECURITY_GROUP, admin) == []
    world = {
        "ingress": [
            {
                "protocol": "tcp",
                "fromPort": 22,
                "toPort": 22,
                "ipv6CidrBlocks": ["::/0"],
            }
        ]
    }
    assert report(v.check_no_open_ingress, v.AWS_SECURITY_GROUP, world) == ["ingress[0] allows ::/0"]


def test_security_group_rules() -> None:
    egress = {"type": "egress", "cidrBlocks": ["0.0.0.0/0"]}
    assert report(v.check_no_open_ingress, v.AWS_SECURITY_GROUP_RULE, egress) == []
    assert report(
        v.check_no_open_ingress,
        v.AWS_SECURITY_GROUP_RULE,
        {"type": "ingress", "cidrBlocks": ["0.0.0.0/0"]},
    )
    assert report(v.check_no_open_ingress, v.AWS_INGRESS_RULE, {"cidrIpv4": "10.0.0.0/16"}) == []
    assert report(v.check_no_open_ingress, v.AWS_INGRESS_RULE, {"cidrIpv4": "0.0.0.0/0"})


def test_oci_security_list_and_nsg() -> None:
    ssh = {"ingressSecurityRules": [{"protocol": "6", "source": "198.51.100.7/32"}]}
    assert report(v.check_no_open_ingress, v.OCI_SECURITY_LIST, ssh) == []
    world = {"ingressSecurityRules": [{"protocol": "6", "source": "0.0.0.0/0"}]}
    assert report(v.check_no_open_ingress, v.OCI_SECURITY_LIST, world) == ["ingressSecurityRules[0] allows 0.0.0.0/0"]
    assert (
        report(
            v.check_no_open_ingress,
            v.OCI_NSG_RULE,
            {"direction": "EGRESS", "destination": "0.0.0.0/0"},
        )
        == []
    )
    assert report(
        v.check_no_open_ingress,
        v.OCI_NSG_RULE,
        {"direction": "INGRESS", "source": "0.0.0.0/0"},
    )


# --- user-data -----------------------------------------------------------------------------------


def test_clean_user_data_passes_on_both_clouds() -> None:
    assert report(v.check_user_data, v.AWS_INSTANCE, aws_instance()) == []
    assert (
        report(
            v.check_user_data,
            v.AWS_INSTANCE,
            aws_instance(userDataBase64=None, userData=CLOUD_CONFIG),
        )
        == []
    )
    assert report(v.check_user_data, v.OCI_INSTANCE, oci_instance()) == []


@pytest.mark.parametrize(
    ("secret", "what"),
    [
        ("ghp_" + "a1B2" * 9, "a GitHub token"),
        ("github_pat_" + "11ABCDEFG0" * 4, "a GitHub token"),
        ("AABF3JGZDX3P5PMEXLND6TS6FCWO6", "a runner registration token"),
        ("AKIAIOSFODNN7EXAMPLE", "an AWS access key id"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "a private key"),
    ],
)
def test_credentials_in_user_data_fail(secret: str, what: str) -> None:
    text = CLOUD_CONFIG + f"write_files:\n  - path: /etc/runner.env\n    content: TOKEN={secret}\n"
    gzipped = base64.b64encode(gzip.compress(text.encode())).decode()
    assert f"user data contains {what}" in report(
        v.check_user_data, v.AWS_INSTANCE, aws_instance(userDataBase64=gzipped)
    )
    oci = oci_instance(metadata={"user_data": base64.b64encode(text.encode()).decode()})
    assert f"user data contains {what}" in report(v.check_user_data, v.OCI_INSTANCE, oci)


@pytest.mark.parametrize("encoding", ["b64", "gz+b64"])
def test_credentials_in_an_encoded_archive_fail(encoding: str) -> None:
    """The renderer ships its scripts as a base64 (gzip) tar in write_files: the scan decodes it."""
    secret = "ghp_" + "a1B2" * 9
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        data = f"TOKEN={secret}\n".encode()
        member = tarfile.TarInfo("usr/local/lib/arm64-runner/leak.sh")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    packed = gzip.compress(buffer.getvalue()) if encoding == "gz+b64" else buffer.getvalue()
    text = CLOUD_CONFIG + (
        f"write_files:\n  - path: /run/arm64-runner/files.tar\n    encoding: {encoding}\n"
        f"    content: {base64.b64encode(packed).decode()}\n"
    )
    gzipped = base64.b64encode(gzip.compress(text.encode())).decode()
    assert "user data contains a GitHub token" in report(
        v.check_user_data, v.AWS_INSTANCE, aws_instance(userDataBase64=gzipped)
    )


def test_ec2_user_data_size_limit() -> None:
    fits = CLOUD_CONFIG + "#" * (16 * 1024 - len(CLOUD_CONFIG))
    assert (
        report(
            v.check_user_data,
            v.AWS_INSTANCE,
            aws_instance(userDataBase64=None, userData=fits),
        )
        == []
    )
    (message,) = report(
        v.check_user_data,
        v.AWS_INSTANCE,
        aws_instance(userDataBase64=None, userData=fits + "#"),
    )
    assert "16385 bytes" in message
    # gzip counts as delivered: the same text compressed fits easily.
    packed = base64.b64encode(gzip.compress((fits + "#").encode())).decode()
    assert report(v.check_user_data, v.AWS_INSTANCE, aws_instance(userDataBase64=packed)) == []


def test_oci_metadata_size_limit() -> None:
    big = base64.b64encode(b"#" * 24_000).decode()  # 32,000 base64 characters
    (message,) = report(v.check_user_data, v.OCI_INSTANCE, oci_instance(metadata={"user_data": big}))
    assert "OCI allows 32000" in message


# --- tags ----------------------------------------------------------------------------------------


def test_required_tags() -> None:
    assert report(v.check_required_tags, v.AWS_INSTANCE, aws_instance()) == []
    assert report(v.check_required_tags, v.OCI_INSTANCE, oci_instance()) == []
    no_pool = {k: val for k, val in AWS_TAGS.items() if k != v.TAG_POOL}
    assert report(v.check_required_tags, v.AWS_INSTANCE, aws_instance(tags=no_pool)) == [f"missing tag {v.TAG_POOL}"]
    wrong_owner = {**OCI_TAGS, v.TAG_MANAGED_BY: "someone"}
    assert report(v.check_required_tags, v.OCI_INSTANCE, oci_instance(freeformTags=wrong_owner))


def test_rules_ignore_unrelated_resources() -> None:
    for rule in v.RESOURCE_RULES:
        assert report(rule.check, "aws:s3/bucket:Bucket", {"tags": {}}) == []


# --- advisory ------------------------------------------------------------------------------------


def test_spot_or_idle_stop() -> None:
    assert report(v.check_spot_or_idle_stop, v.AWS_INSTANCE, aws_instance()) == []
    spot = aws_instance(tags=AWS_TAGS, instanceMarketOptions={"marketType": "spot"})
    assert report(v.check_spot_or_idle_stop, v.AWS_INSTANCE, spot) == []
    assert report(v.check_spot_or_idle_stop, v.AWS_INSTANCE, aws_instance(tags=AWS_TAGS))
    never = {**AWS_TAGS, v.TAG_IDLE_ACTION: "none"}
    assert report(v.check_spot_or_idle_stop, v.AWS_INSTANCE, aws_instance(tags=never))
    assert report(v.check_spot_or_idle_stop, v.OCI_INSTANCE, oci_instance()) == []


def stack_report(resources: list[tuple[str, dict[str, Any]]], config: dict[str, Any] | None = None) -> list[str]:
    opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    policy_resources = [
        PolicyResource(
            kind,
            props,
            f"urn:pulumi:dev::p::{kind}::r{i}",
            f"r{i}",
            opts,
            None,
            None,
            [],
            {},
        )
        for i, (kind, props) in enumerate(resources)
    ]
    messages: list[str] = []
    v.stack_validator(
        StackValidationArgs(policy_resources, config),
        lambda m, urn=None: messages.append(m),
    )
    return messages


def test_free_tier_totals() -> None:
    half = oci_instance(shapeConfig={"ocpus": 2, "memoryInGbs": 12})
    assert (
        stack_report(
            [
                (v.OCI_INSTANCE, half),
                (v.OCI_INSTANCE, half),
                (v.AWS_INSTANCE, aws_instance()),
            ]
        )
        == []
    )
    over = stack_report([(v.OCI_INSTANCE, oci_instance()), (v.OCI_INSTANCE, half)])
    assert over == [
        "A1 instances use 6 OCPUs; Always Free covers 4",
        "A1 instances use 36 GB of memory; Always Free covers 24",
    ]
    # Default 50 GB boot volumes: five of them exceed the 200 GB allowance.
    small = oci_instance(
        shapeConfig={"ocpus": 0.5, "memoryInGbs": 3},
        sourceDetails={"sourceType": "image"},
    )
    assert stack_report([(v.OCI_INSTANCE, small)] * 5) == [
        "A1 instances use 250 GB of block storage; Always Free covers 200"
    ]
    # A tenancy with the reported 2 OCPU / 12 GB allowance sets it in policy config.
    assert (
        len(
            stack_report(
                [(v.OCI_INSTANCE, half), (v.OCI_INSTANCE, half)],
                {"ocpus": 2, "memoryGb": 12},
            )
        )
        == 2
    )


# --- the pack ------------------------------------------------------------------------------------


def test_pack_wires_every_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs policy/__main__.py with PolicyPack recorded instead of served."""
    import pulumi_policy

    built: dict[str, Any] = {}
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kw: built.update(kw))
    runpy.run_path(str(ROOT / "policy" / "__main__.py"), run_name="__main__")
    levels = {p.name: p.enforcement_level for p in built["policies"]}
    assert len(levels) == len(built["policies"])
    assert {name for name, level in levels.items() if level == EnforcementLevel.MANDATORY} == {
        "arm64-instance-types",
        "imdsv2-required",
        "encrypted-volumes",
        "no-open-ingress",
        "user-data-safe",
        "required-tags",
        "iam-least-privilege",
    }
    assert levels["spot-or-idle-stop"] == levels[v.FREE_TIER_RULE_NAME] == EnforcementLevel.ADVISORY


# --- instances launched from a template ----------------------------------------------------------


def test_instance_settings_inherited_from_its_launch_template_are_checked_there() -> None:
    from_template = {
        "launchTemplate": {"id": "lt-0123", "version": "1"},
        "tags": AWS_TAGS,
        "userDataBase64": aws_instance()["userDataBase64"],
    }
    for rule in (v.check_arm64_compute, v.check_imdsv2, v.check_encrypted_volumes, v.check_spot_or_idle_stop):
        assert report(rule, v.AWS_INSTANCE, from_template) == [], rule.__name__
    # An instance that overrides its template is checked itself.
    overriding = {**from_template, "metadataOptions": {"httpTokens": "optional"}, "instanceType": "t3.large"}
    assert report(v.check_imdsv2, v.AWS_INSTANCE, overriding)
    assert report(v.check_arm64_compute, v.AWS_INSTANCE, overriding)
    # The same instance without a template has nothing to inherit from.
    assert report(v.check_imdsv2, v.AWS_INSTANCE, {k: x for k, x in from_template.items() if k != "launchTemplate"})


def test_default_security_group_and_list() -> None:
    world = {"ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]}
    assert report(v.check_no_open_ingress, v.AWS_DEFAULT_SECURITY_GROUP, world)
    assert report(v.check_no_open_ingress, v.AWS_DEFAULT_SECURITY_GROUP, {"ingress": []}) == []
    assert report(v.check_no_open_ingress, v.OCI_DEFAULT_SECURITY_LIST, {"ingressSecurityRules": [{"source": "::/0"}]})


# --- IAM least privilege (the runner roles, the wake function's role) -------------------------------


def role_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})}


WAKE_START = {
    "Sid": "StartOwnRunners",
    "Effect": "Allow",
    "Action": "ec2:StartInstances",
    "Resource": "arn:aws:ec2:us-east-1:123456789012:instance/*",
    "Condition": {"StringEquals": {"aws:ResourceTag/arm64-runners:stack": "dev"}},
}
WAKE_HANDOFF = {
    "Sid": "WriteOwnHandoffs",
    "Effect": "Allow",
    "Action": "ssm:PutParameter",
    "Resource": "arn:aws:ssm:us-east-1:123456789012:parameter/arm64-runners/dev/*",
}


@pytest.mark.parametrize("kind", [v.AWS_ROLE_POLICY, v.AWS_POLICY])
def test_scoped_iam_passes_the_wake_roles_statements(kind: str) -> None:
    assert report(v.check_scoped_iam, kind, role_policy(WAKE_START, WAKE_HANDOFF)) == []


@pytest.mark.parametrize(
    ("weakened", "word"),
    [
        ({**WAKE_START, "Condition": {}}, "without a aws:ResourceTag/arm64-runners:stack condition"),
        ({**WAKE_START, "Action": "ec2:*", "Condition": {}}, "every action of a service"),
        ({**WAKE_START, "Action": "ec2:Start*", "Condition": {}}, "ec2:StartInstances without"),
        ({**WAKE_HANDOFF, "Resource": "*"}, "beyond the project's paths"),
        ({**WAKE_HANDOFF, "Resource": "arn:aws:ssm:us-east-1:123456789012:parameter/*"}, "beyond the project"),
        ({**WAKE_HANDOFF, "Action": "ssm:Get*", "Resource": "arn:aws:ssm:*:*:parameter/other/*"}, "beyond"),
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, "every action"),
    ],
)
def test_scoped_iam_refuses_weakened_statements(weakened: dict[str, Any], word: str) -> None:
    messages = report(v.check_scoped_iam, v.AWS_ROLE_POLICY, role_policy(weakened))
    assert any(word in m for m in messages), messages


def test_scoped_iam_ignores_denies_and_other_resources() -> None:
    deny = {"Effect": "Deny", "Action": "ssm:GetParameter", "NotResource": "arn:aws:ssm:*:*:parameter/x"}
    assert report(v.check_scoped_iam, v.AWS_ROLE_POLICY, role_policy(deny)) == []
    assert report(v.check_scoped_iam, v.AWS_INSTANCE, aws_instance()) == []
