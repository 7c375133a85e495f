"""Launch template per pool and one instance per runner.

The pool's launch template carries what every runner shares and what hardening depends on: the image,
instance type, IMDSv2 with the stack's hop limit, the encrypted gp3 root volume, the no-ingress
security group, the shutdown behaviour and the tags. What differs per runner is set on the instance
itself (it overrides the template): its subnet, its own instance profile (its role reads only its own
token) and its user-data (its name and its token's parameter).

`spot: true` uses `aws.ec2.SpotInstanceRequest` with a persistent request that stops on interruption:
destroying that resource cancels the request and terminates the instance, whereas a persistent
request made through `aws.ec2.Instance` is left behind on destroy and keeps launching instances
nobody manages (hashicorp/terraform-provider-aws#38142).
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from components.bootstrap import gzip_base64
from components.config.limits import EC2_USER_DATA_MAX_BYTES
from components.config.model import AwsSettings, IdleAction
from components.tags import TAG_HANDOFF, TAG_RUNNER

#: Root device of Canonical's Ubuntu AMIs (the template's volume settings apply to it).
ROOT_DEVICE = "/dev/sda1"


@dataclass(frozen=True)
class PoolHost:
    """What the launch template of one pool is made of."""

    stack: str
    pool: str
    instance_type: str
    disk_gb: int
    spot: bool
    idle_action: IdleAction


def shutdown_behavior(idle_action: IdleAction) -> str:
    """What an OS power-off does: the idle watchdog powers off; `terminate` makes that final."""
    return "terminate" if idle_action == "terminate" else "stop"


def metadata_options(settings: AwsSettings) -> dict[str, Any]:
    return {
        "http_endpoint": "enabled",
        "http_tokens": "required",
        "http_put_response_hop_limit": settings.metadata_hop_limit,
        "instance_metadata_tags": "disabled",
    }


def launch_template_inputs(
    *,
    host: PoolHost,
    image_id: pulumi.Input[str],
    security_group_id: pulumi.Input[str],
    settings: AwsSettings,
    tags: dict[str, str],
) -> dict[str, Any]:
    """The pool's launch template as plain inputs: what `launch_template` creates, and what every runner's
    registration key covers (a change makes a new template version, which replaces the instances)."""
    pool_tags = {**tags, "Name": f"arm64-runners-{host.stack}-{host.pool}"}
    return {
        "description": f"arm64-runners {host.stack}/{host.pool}: hardened runner host",
        "image_id": image_id,
        "instance_type": host.instance_type,
        "key_name": settings.ssh_key_name,
        "vpc_security_group_ids": [security_group_id],
        "metadata_options": metadata_options(settings),
        "instance_initiated_shutdown_behavior": shutdown_behavior(host.idle_action),
        "block_device_mappings": [
            {
                "device_name": ROOT_DEVICE,
                "ebs": {
                    "volume_size": host.disk_gb,
                    "volume_type": "gp3",
                    "encrypted": "true",
                    "delete_on_termination": "true",
                },
            }
        ],
        "tag_specifications": [
            {"resource_type": kind, "tags": pool_tags} for kind in ("instance", "volume", "network-interface")
        ],
        "update_default_version": True,
        "tags": pool_tags,
    }


def launch_template(name: str, inputs: dict[str, Any], opts: pulumi.ResourceOptions) -> aws.ec2.LaunchTemplate:
    return aws.ec2.LaunchTemplate(name, **inputs, opts=opts)


def user_data_base64(text: str) -> str:
    """gzip + base64 of the rendered cloud-config, refused when EC2 would refuse it."""
    encoded = gzip_base64(text)
    raw = len(base64.b64decode(encoded))
    if raw > EC2_USER_DATA_MAX_BYTES:
        raise ValueError(
            f"user-data is {raw} bytes gzipped; EC2 accepts at most {EC2_USER_DATA_MAX_BYTES} bytes "
            "(shorten the runner labels or settings)"
        )
    return encoded


@dataclass
class LaunchedInstance:
    instance_id: pulumi.Output[str]
    private_ip: pulumi.Output[str]
    availability_zone: pulumi.Output[str]


def runner_instance(
    name: str,
    *,
    runner_name: str,
    template: aws.ec2.LaunchTemplate,
    spot: bool,
    subnet_id: pulumi.Input[str],
    instance_profile: pulumi.Input[str],
    user_data: pulumi.Output[str],
    tags: pulumi.Input[dict[str, pulumi.Input[str]]],
    opts: pulumi.ResourceOptions,
) -> LaunchedInstance:
    """One runner's instance; replaced whenever its user-data (i.e. its registration) changes."""
    version = template.latest_version.apply(str)
    secret_user_data: pulumi.Output[str] = pulumi.Output.secret(cast(Any, user_data))
    instance_opts = pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(additional_secret_outputs=["user_data", "user_data_base64"])
    )
    if not spot:
        instance = aws.ec2.Instance(
            name,
            launch_template=aws.ec2.InstanceLaunchTemplateArgs(id=template.id, version=version),
            subnet_id=subnet_id,
            iam_instance_profile=instance_profile,
            user_data_base64=secret_user_data,
            user_data_replace_on_change=True,
            tags=tags,
            opts=instance_opts,
        )
        return LaunchedInstance(instance.id, instance.private_ip, instance.availability_zone)
    request = aws.ec2.SpotInstanceRequest(
        name,
        launch_template=aws.ec2.SpotInstanceRequestLaunchTemplateArgs(id=template.id, version=version),
        spot_type="persistent",
        instance_interruption_behavior="stop",
        wait_for_fulfillment=True,
        subnet_id=subnet_id,
        iam_instance_profile=instance_profile,
        user_data_base64=secret_user_data,
        user_data_replace_on_change=True,
        tags=tags,  # on the request; the instance gets the template's tags and the ones below
        opts=instance_opts,
    )
    all_tags: pulumi.Output[dict[str, str]] = pulumi.Output.from_input(tags)  # type: ignore[arg-type]
    for key in (TAG_RUNNER, TAG_HANDOFF, "Name"):
        value = all_tags.apply(functools.partial(_tag_value, key))
        aws.ec2.Tag(f"{name}-{_tag_part(key)}", resource_id=request.spot_instance_id, key=key, value=value, opts=opts)
    return LaunchedInstance(request.spot_instance_id, request.private_ip, request.availability_zone)


def _tag_value(key: str, tags: dict[str, str]) -> str:
    return tags[key]


def _tag_part(key: str) -> str:
    """`Name` keeps its old resource name (`…-name`); the others are named after their key."""
    return key.rsplit(":", 1)[-1].lower()
