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
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from components.bootstrap import gzip_base64
from components.config.limits import EC2_USER_DATA_MAX_BYTES
from components.config.model import AwsSettings, IdleAction

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


def metadata_options(settings: AwsSettings) -> aws.ec2.LaunchTemplateMetadataOptionsArgs:
    return aws.ec2.LaunchTemplateMetadataOptionsArgs(
        http_endpoint="enabled",
        http_tokens="required",
        http_put_response_hop_limit=settings.metadata_hop_limit,
        instance_metadata_tags="disabled",
    )


def launch_template(
    name: str,
    *,
    host: PoolHost,
    image_id: pulumi.Input[str],
    security_group_id: pulumi.Input[str],
    settings: AwsSettings,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.ec2.LaunchTemplate:
    pool_tags = {**tags, "Name": f"arm64-runners-{host.stack}-{host.pool}"}
    return aws.ec2.LaunchTemplate(
        name,
        description=f"arm64-runners {host.stack}/{host.pool}: hardened runner host",
        image_id=image_id,
        instance_type=host.instance_type,
        key_name=settings.ssh_key_name,
        vpc_security_group_ids=[security_group_id],
        metadata_options=metadata_options(settings),
        instance_initiated_shutdown_behavior=shutdown_behavior(host.idle_action),
        block_device_mappings=[
            aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name=ROOT_DEVICE,
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=host.disk_gb,
                    volume_type="gp3",
                    encrypted="true",
                    delete_on_termination="true",
                ),
            )
        ],
        tag_specifications=[
            aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=pool_tags)
            for kind in ("instance", "volume", "network-interface")
        ],
        update_default_version=True,
        tags=pool_tags,
        opts=opts,
    )


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
class RunnerHost:
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
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> RunnerHost:
    """One runner's instance; replaced whenever its user-data (i.e. its registration) changes."""
    runner_tags = {**tags, "Name": runner_name}
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
            tags=runner_tags,
            opts=instance_opts,
        )
        return RunnerHost(instance.id, instance.private_ip, instance.availability_zone)
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
        tags=runner_tags,  # on the request; the instance gets the template's tags and the Name below
        opts=instance_opts,
    )
    aws.ec2.Tag(
        f"{name}-name",
        resource_id=request.spot_instance_id,
        key="Name",
        value=runner_name,
        opts=opts,
    )
    return RunnerHost(request.spot_instance_id, request.private_ip, request.availability_zone)
