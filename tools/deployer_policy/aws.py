"""What the identity running `pulumi up`/`refresh`/`destroy` may do in AWS, per resource type of a plan.

One entry per Pulumi resource type (and per invoke the program makes): the IAM actions the provider
calls to create, read, update, tag and delete it, where those actions are scoped, and where that comes
from. pulumi-aws is built on the Terraform AWS provider, so the calls are those of the matching
terraform-provider-aws resource (`internal/service/<service>/<resource>.go`); the action names and
their resource types are AWS's Service Authorization Reference.

Scopes:
- REGIONAL: `Resource: "*"` limited to the stack's region (`aws:RequestedRegion`): EC2 create calls
  name resources that do not exist yet, and EC2 describe calls support no resource ARN;
- an ARN template: `{partition}`, `{region}`, `{account}`, `{stack}`, `{name}` (the physical name of
  each resource of that type in the plan: its `name` input, or the logical name Pulumi auto-names with
  a random suffix, e.g. `pool-graviton-*-role-*`), and `{role}` / `{function}` / `{secret}` (the
  physical names of the plan's IAM roles, Lambda functions and secrets).

Dynamic resources (`pulumi-python:dynamic:Resource`) are recognised by their inputs (DYNAMIC).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

REGIONAL = "regional"
#: Resource "*" everywhere: only for calls that support no resource ARN and no region (IAM is global).
GLOBAL = "global"

TF = "terraform-provider-aws internal/service/"
SAR = "AWS Service Authorization Reference, "


@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]
    scope: str
    source: str
    #: IAM condition block for the statement (values may use the same placeholders as `scope`).
    condition: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Condition values taken from each resource's inputs: (operator, condition key, input name).
    condition_from_inputs: tuple[str, str, str] | None = None


def _parameters(prefix: str, why: str) -> Grant:
    """SSM parameters of the stack under `/<prefix>/<stack>/`."""
    return Grant(
        (
            "ssm:PutParameter",
            "ssm:GetParameter",
            "ssm:GetParameters",
            "ssm:DeleteParameter",
            "ssm:AddTagsToResource",
            "ssm:RemoveTagsFromResource",
            "ssm:ListTagsForResource",
        ),
        "arn:{partition}:ssm:{region}:{account}:parameter/" + prefix + "/{stack}/*",
        TF + "ssm/parameter.go; " + why,
    )


def _tags(*extra: str) -> tuple[str, ...]:
    return ("ec2:CreateTags", "ec2:DeleteTags", *extra)


#: Launching with an instance profile passes its role to EC2; AddRoleToInstanceProfile needs the same
#: permission without a service in the request, so no iam:PassedToService condition can be set. The
#: roles themselves trust only ec2.amazonaws.com (components/aws/identity.py).
_PASS_ROLE = Grant(
    ("iam:PassRole",),
    "arn:{partition}:iam::{account}:role/{role}",
    SAR + "IAM: PassRole (instance profile at launch; AddRoleToInstanceProfile)",
)

_INSTANCE_READ = (
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceAttribute",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeInstanceCreditSpecifications",
    "ec2:DescribeVolumes",
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:DescribeSpotInstanceRequests",
    "ec2:DescribeIamInstanceProfileAssociations",
)
_INSTANCE_UPDATE = (
    "ec2:StartInstances",
    "ec2:StopInstances",
    "ec2:ModifyInstanceAttribute",
    "ec2:ModifyInstanceMetadataOptions",
    "ec2:ModifyInstanceCreditSpecification",
    "ec2:ModifyVolume",
    "ec2:DescribeVolumesModifications",
    "ec2:AssociateIamInstanceProfile",
    "ec2:ReplaceIamInstanceProfileAssociation",
    "ec2:DisassociateIamInstanceProfile",
    "ec2:TerminateInstances",
)

#: Pulumi type -> what its provider calls. Every type of every example plan must be here (tests).
TYPES: dict[str, tuple[Grant, ...]] = {
    "aws:ec2/vpc:Vpc": (
        Grant(
            (
                "ec2:CreateVpc",
                "ec2:DeleteVpc",
                "ec2:DescribeVpcs",
                "ec2:DescribeVpcAttribute",
                "ec2:ModifyVpcAttribute",
                # Read records the VPC's main route table, default network ACL and security group.
                "ec2:DescribeRouteTables",
                "ec2:DescribeNetworkAcls",
                "ec2:DescribeSecurityGroups",
                *_tags(),
            ),
            REGIONAL,
            TF + "ec2/vpc_.go",
        ),
    ),
    "aws:ec2/subnet:Subnet": (
        Grant(
            (
                "ec2:CreateSubnet",
                "ec2:DeleteSubnet",
                "ec2:DescribeSubnets",
                "ec2:ModifySubnetAttribute",
                "ec2:DescribeNetworkInterfaces",  # delete waits for network interfaces to go
                *_tags(),
            ),
            REGIONAL,
            TF + "ec2/vpc_subnet.go",
        ),
    ),
    "aws:ec2/internetGateway:InternetGateway": (
        Grant(
            (
                "ec2:CreateInternetGateway",
                "ec2:DeleteInternetGateway",
                "ec2:AttachInternetGateway",
                "ec2:DetachInternetGateway",
                "ec2:DescribeInternetGateways",
                *_tags(),
            ),
            REGIONAL,
            TF + "ec2/vpc_internet_gateway.go",
        ),
    ),
    "aws:ec2/routeTable:RouteTable": (
        Grant(
            (
                "ec2:CreateRouteTable",
                "ec2:DeleteRouteTable",
                "ec2:DescribeRouteTables",
                "ec2:CreateRoute",
                "ec2:ReplaceRoute",
                "ec2:DeleteRoute",
                *_tags(),
            ),
            REGIONAL,
            TF + "ec2/vpc_route_table.go",
        ),
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (
        Grant(
            (
                "ec2:AssociateRouteTable",
                "ec2:DisassociateRouteTable",
                "ec2:ReplaceRouteTableAssociation",
                "ec2:DescribeRouteTables",
            ),
            REGIONAL,
            TF + "ec2/vpc_route_table_association.go",
        ),
    ),
    "aws:ec2/securityGroup:SecurityGroup": (
        Grant(
            (
                "ec2:CreateSecurityGroup",
                "ec2:DeleteSecurityGroup",
                "ec2:DescribeSecurityGroups",
                "ec2:AuthorizeSecurityGroupEgress",
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupEgress",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
                "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
                "ec2:DescribeNetworkInterfaces",  # delete waits for network interfaces to go
                *_tags(),
            ),
            REGIONAL,
            TF + "ec2/vpc_security_group.go",
        ),
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": (
        Grant(
            (
                "ec2:DescribeSecurityGroups",
                "ec2:AuthorizeSecurityGroupEgress",
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupEgress",
                "ec2:RevokeSecurityGroupIngress",
                *_tags(),
            ),
            REGIONAL,
            TF + "ec2/vpc_default_security_group.go (adopts the VPC's default group and empties it)",
        ),
    ),
    "aws:ec2/launchTemplate:LaunchTemplate": (
        Grant(
            (
                "ec2:CreateLaunchTemplate",
                "ec2:CreateLaunchTemplateVersion",
                "ec2:ModifyLaunchTemplate",
                "ec2:DeleteLaunchTemplate",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribeLaunchTemplateVersions",
                *_tags(),
            ),
            REGIONAL,
            TF + "ec2/ec2_launch_template.go",
        ),
    ),
    "aws:ec2/instance:Instance": (
        Grant(
            ("ec2:RunInstances", *_INSTANCE_READ, *_INSTANCE_UPDATE, *_tags()),
            REGIONAL,
            TF + "ec2/ec2_instance.go (read: instance type, credit specification, volumes, launch template)",
        ),
        _PASS_ROLE,
    ),
    "aws:ec2/spotInstanceRequest:SpotInstanceRequest": (
        Grant(
            (
                "ec2:RequestSpotInstances",
                "ec2:CancelSpotInstanceRequests",
                *_INSTANCE_READ,
                *_INSTANCE_UPDATE,
                *_tags(),
            ),
            REGIONAL,
            TF + "ec2/ec2_spot_instance_request.go (the fulfilled instance is read and terminated like an instance)",
        ),
        _PASS_ROLE,
        Grant(
            ("iam:CreateServiceLinkedRole",),
            "arn:{partition}:iam::{account}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot",
            "Amazon EC2 user guide, service-linked role for Spot Instances (created on an account's first request)",
            condition={"StringEquals": {"iam:AWSServiceName": "spot.amazonaws.com"}},
        ),
    ),
    "aws:ec2/tag:Tag": (Grant(("ec2:DescribeTags", *_tags()), REGIONAL, TF + "ec2/tag_gen.go (aws_ec2_tag)"),),
    "aws:iam/role:Role": (
        Grant(
            (
                "iam:CreateRole",
                "iam:GetRole",
                "iam:UpdateRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:DeleteRole",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:ListRoleTags",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
            ),
            "arn:{partition}:iam::{account}:role/{name}",
            TF + "iam/role.go (delete lists the role's policies and instance profiles first)",
        ),
    ),
    "aws:iam/instanceProfile:InstanceProfile": (
        Grant(
            (
                "iam:CreateInstanceProfile",
                "iam:GetInstanceProfile",
                "iam:DeleteInstanceProfile",
                "iam:AddRoleToInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:TagInstanceProfile",
                "iam:UntagInstanceProfile",
                "iam:ListInstanceProfileTags",
            ),
            "arn:{partition}:iam::{account}:instance-profile/{name}",
            TF + "iam/instance_profile.go",
        ),
        _PASS_ROLE,
    ),
    "aws:iam/rolePolicy:RolePolicy": (
        Grant(
            ("iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"),
            "arn:{partition}:iam::{account}:role/{role}",
            TF + "iam/role_policy.go",
        ),
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (
        Grant(
            ("iam:AttachRolePolicy", "iam:DetachRolePolicy"),
            "arn:{partition}:iam::{account}:role/{role}",
            TF + "iam/role_policy_attachment.go; only the managed policies the plan attaches (iam:PolicyARN)",
            condition_from_inputs=("ArnEquals", "iam:PolicyARN", "policyArn"),
        ),
        Grant(
            ("iam:ListAttachedRolePolicies",),
            "arn:{partition}:iam::{account}:role/{role}",
            TF + "iam/role_policy_attachment.go (read)",
        ),
    ),
    "aws:ssm/parameter:Parameter": (
        _parameters("arm64-runners", "the stack's runner parameters live under /arm64-runners/<stack>/"),
        _parameters("arm64-runners-wake", "the wake function's credential and webhook secret (components/aws/wake.py)"),
        Grant(("ssm:DescribeParameters",), REGIONAL, TF + "ssm/parameter.go (read: tier, description)"),
        Grant(
            ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"),
            "arn:{partition}:kms:{region}:{account}:key/*",
            "AWS Systems Manager user guide, SecureString parameters and AWS KMS: only through SSM",
            condition={"StringEquals": {"kms:ViaService": "ssm.{region}.amazonaws.com"}},
        ),
    ),
    # --- types that other parts of the program add (wake-on-job, secrets) -------------------------
    "aws:dynamodb/table:Table": (
        Grant(
            (
                "dynamodb:CreateTable",
                "dynamodb:DescribeTable",
                "dynamodb:UpdateTable",
                "dynamodb:DeleteTable",
                "dynamodb:DescribeTimeToLive",
                "dynamodb:UpdateTimeToLive",
                "dynamodb:DescribeContinuousBackups",
                "dynamodb:TagResource",
                "dynamodb:UntagResource",
                "dynamodb:ListTagsOfResource",
            ),
            "arn:{partition}:dynamodb:{region}:{account}:table/arm64-runners-wake-{stack}",
            TF + "dynamodb/table.go (create, TTL, read of backups and tags); the wake function's claims table",
        ),
    ),
    "aws:lambda/function:Function": (
        Grant(
            (
                "lambda:CreateFunction",
                "lambda:GetFunction",
                "lambda:GetFunctionConfiguration",
                "lambda:GetFunctionCodeSigningConfig",
                "lambda:GetFunctionConcurrency",
                "lambda:ListVersionsByFunction",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
                "lambda:PutFunctionConcurrency",
                "lambda:DeleteFunctionConcurrency",
                "lambda:PublishVersion",
                "lambda:DeleteFunction",
                "lambda:TagResource",
                "lambda:UntagResource",
                "lambda:ListTags",
            ),
            "arn:{partition}:lambda:{region}:{account}:function:{name}",
            TF + "lambda/function.go",
        ),
        Grant(
            ("iam:PassRole",),
            "arn:{partition}:iam::{account}:role/{role}",
            SAR + "Lambda: CreateFunction/UpdateFunctionConfiguration pass the execution role",
            condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        ),
    ),
    "aws:lambda/functionUrl:FunctionUrl": (
        Grant(
            (
                "lambda:CreateFunctionUrlConfig",
                "lambda:GetFunctionUrlConfig",
                "lambda:UpdateFunctionUrlConfig",
                "lambda:DeleteFunctionUrlConfig",
                # authorization NONE: the provider adds the public-invoke statement itself.
                "lambda:AddPermission",
                "lambda:RemovePermission",
                "lambda:GetPolicy",
            ),
            "arn:{partition}:lambda:{region}:{account}:function:{function}",
            TF + "lambda/function_url.go",
        ),
    ),
    "aws:lambda/permission:Permission": (
        Grant(
            ("lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy"),
            "arn:{partition}:lambda:{region}:{account}:function:{function}",
            TF + "lambda/permission.go",
        ),
    ),
    "aws:cloudwatch/logGroup:LogGroup": (
        Grant(
            (
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:PutRetentionPolicy",
                "logs:DeleteRetentionPolicy",
                "logs:TagResource",
                "logs:UntagResource",
                "logs:ListTagsForResource",
                "logs:AssociateKmsKey",
                "logs:DisassociateKmsKey",
            ),
            "arn:{partition}:logs:{region}:{account}:log-group:{name}",
            TF + "logs/group.go",
        ),
        Grant(("logs:DescribeLogGroups",), REGIONAL, TF + "logs/group.go (read)"),
    ),
    "aws:secretsmanager/secret:Secret": (
        Grant(
            (
                "secretsmanager:CreateSecret",
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetResourcePolicy",
                "secretsmanager:UpdateSecret",
                "secretsmanager:DeleteSecret",
                "secretsmanager:TagResource",
                "secretsmanager:UntagResource",
            ),
            "arn:{partition}:secretsmanager:{region}:{account}:secret:{name}*",
            TF + "secretsmanager/secret.go (AWS appends a random -XXXXXX to the ARN)",
        ),
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": (
        Grant(
            (
                "secretsmanager:PutSecretValue",
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
                "secretsmanager:ListSecretVersionIds",
                "secretsmanager:UpdateSecretVersionStage",
            ),
            "arn:{partition}:secretsmanager:{region}:{account}:secret:{secret}*",
            TF + "secretsmanager/secret_version.go",
        ),
        Grant(
            ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"),
            "arn:{partition}:kms:{region}:{account}:key/*",
            "AWS Secrets Manager user guide, secret encryption: only through Secrets Manager",
            condition={"StringEquals": {"kms:ViaService": "secretsmanager.{region}.amazonaws.com"}},
        ),
    ),
}

#: Invokes (data sources) the program calls while planning.
INVOKES: dict[str, tuple[Grant, ...]] = {
    "aws:ssm/getParameter:getParameter": (
        Grant(
            ("ssm:GetParameter",),
            "arn:{partition}:ssm:{region}::parameter/aws/service/canonical/*",
            "Canonical's public SSM parameters for Ubuntu AMI ids (components/aws/image.py)",
        ),
    ),
    "aws:ec2/getAmi:getAmi": (Grant(("ec2:DescribeImages",), REGIONAL, TF + "ec2/ec2_ami_data_source.go"),),
    "aws:ec2/getSubnets:getSubnets": (
        Grant(("ec2:DescribeSubnets",), REGIONAL, TF + "ec2/vpc_subnets_data_source.go"),
    ),
    "aws:index/getAvailabilityZones:getAvailabilityZones": (
        Grant(("ec2:DescribeAvailabilityZones",), REGIONAL, TF + "meta/availability_zones_data_source.go"),
    ),
    # Computed from the provider's configuration or allowed to every identity: no permission.
    "aws:index/getPartition:getPartition": (),
    "aws:index/getRegion:getRegion": (),
    "aws:index/getCallerIdentity:getCallerIdentity": (),
}

#: The AWS token hand-off: a per-runner SecureString the deployer writes and the instance deletes.
_HANDOFF = (
    Grant(
        ("ssm:PutParameter", "ssm:DeleteParameter", "ssm:AddTagsToResource"),
        "arn:{partition}:ssm:{region}:{account}:parameter/arm64-runners/{stack}/*",
        "the hand-off dynamic provider (components/aws): writes the runner's SecureString, deletes it at destroy",
    ),
    Grant(
        ("kms:Encrypt", "kms:GenerateDataKey"),
        "arn:{partition}:kms:{region}:{account}:key/*",
        "AWS Systems Manager user guide, SecureString parameters and AWS KMS (aws/ssm): only through SSM",
        condition={"StringEquals": {"kms:ViaService": "ssm.{region}.amazonaws.com"}},
    ),
)


def _keys(inputs: Mapping[str, Any]) -> set[str]:
    return {k for k in inputs if not k.startswith("__")}


#: Dynamic resources, told apart by their inputs: (what it is, test on the inputs, its AWS grants).
DYNAMIC: tuple[tuple[str, Callable[[Mapping[str, Any]], bool], tuple[Grant, ...]], ...] = (
    ("image pin (components/pinned.py): state only", lambda i: _keys(i) <= {"candidate", "value"}, ()),
    (
        "GitHub runner registration (components/github): the GitHub token, no AWS call",
        lambda i: {"runner_name", "scope_path"} <= _keys(i),
        (),
    ),
    ("AWS token hand-off (SSM SecureString)", lambda i: {"parameter_name", "region"} <= _keys(i), _HANDOFF),
    (
        "webhook secret (components/aws/wake_secret.py): generated locally, state only",
        lambda i: _keys(i) <= {"byte_length", "value"},
        (),
    ),
)
