"""Per-runner IAM: a role and instance profile for one instance, able to reach its own token only.

One role per runner (not per pool): the hand-off grant names a single parameter ARN, so a runner can
never read a sibling's token. It may read that parameter and delete it (the hand-off deletes the token
once read, components/aws/handoff.py), nothing else. Session Manager (`AmazonSSMManagedInstanceCore`) is the way in; that AWS
policy also allows `ssm:GetParameter(s)` on every parameter, so an explicit deny takes every parameter
read or write back except on the runner's own token (an explicit deny wins over any allow). The
SecureString uses the AWS managed key `aws/ssm`, whose key policy already lets principals of the
account decrypt through SSM, so no KMS grant is added here.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"
#: Every Parameter Store action that reads or changes a parameter, its versions or their labels.
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


def assume_role_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def handoff_policy(parameter_arn: str) -> str:
    """Read the token and delete it, on exactly one parameter."""
    document: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadOnceOwnToken",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:DeleteParameter"],
                "Resource": parameter_arn,
            },
            {
                "Sid": "NoOtherParameter",
                "Effect": "Deny",
                "Action": list(PARAMETER_ACTIONS),
                "NotResource": parameter_arn,
            },
        ],
    }
    return json.dumps(document)


class RunnerIdentity:
    """Role, hand-off policy, Session Manager attachment and instance profile of one runner."""

    def __init__(
        self,
        name: str,
        *,
        parameter_arn: pulumi.Output[str],
        tags: dict[str, str],
        opts: pulumi.ResourceOptions,
    ) -> None:
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=opts.parent)).partition
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=assume_role_policy(),
            description="arm64-runners: one runner instance (Session Manager + its own token)",
            tags=tags,
            opts=opts,
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-token-handoff",
            role=self.role.id,
            policy=parameter_arn.apply(handoff_policy),
            opts=opts,
        )
        self.ssm_core = aws.iam.RolePolicyAttachment(
            f"{name}-ssm-core",
            role=self.role.name,
            policy_arn=partition.apply(lambda p: f"arn:{p}:iam::aws:policy/{SSM_CORE_POLICY}"),
            opts=opts,
        )
        self.profile = aws.iam.InstanceProfile(f"{name}-profile", role=self.role.name, tags=tags, opts=opts)
