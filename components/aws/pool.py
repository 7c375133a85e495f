"""A pool of runners on EC2: registration, token hand-off, identity and instance per runner.

`aws` pools (Graviton, native arm64) and `emulated` pools (x86_64 hosts running the arm64 runner under
QEMU) are the same machinery; a `HostProfile` says what differs (architecture, instance-type check,
bootstrap variant, type token). This module knows nothing of emulation: components/emulated supplies
its own profile.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.aws.compute import PoolHost, RunnerHost, launch_template, runner_instance, user_data_base64
from components.aws.handoff import handoff_for, parameter_name, token_parameter
from components.aws.identity import RunnerIdentity
from components.aws.image import Architecture, pool_image
from components.aws.network import StackNetwork, StackNetworkArgs
from components.bootstrap import BootstrapSpec, render_user_data, template_digest
from components.config.limits import is_graviton
from components.config.model import AwsPool, EmulatedPool, StackConfig
from components.github import RunnerRegistration, RunnerRegistrationArgs
from components.tags import pool_tags

Ec2Pool = AwsPool | EmulatedPool
#: The longest region name AWS uses, for the user-data size check before the real region is known.
LONGEST_REGION = "ap-southeast-5"


@dataclass(frozen=True)
class HostProfile:
    """What makes a pool kind on EC2 different from another."""

    #: Type-token module: `arm64-runners:<module>:RunnerPool`.
    module: str
    architecture: Architecture
    variant: Literal["native", "emulated"]
    #: True when the instance type has the profile's architecture.
    accepts_instance_type: Callable[[str], bool]
    #: What the refusal says about the instance types this profile accepts.
    instance_type_hint: str


GRAVITON = HostProfile(
    module="aws",
    architecture="arm64",
    variant="native",
    accepts_instance_type=is_graviton,
    instance_type_hint="a Graviton (arm64) type such as t4g.medium, m7g.large or c8g.xlarge",
)


@dataclass
class RunnerPoolArgs:
    config: StackConfig
    pool: Ec2Pool
    #: The stack's GitHub credential (secret), for the registrations.
    github_token: pulumi.Output[str]
    #: The stack's shared network; None builds one for this pool alone.
    network: StackNetwork | None = None
    #: Resources every registration waits for (e.g. the organization runner group).
    registration_depends_on: Sequence[pulumi.Resource] = field(default_factory=list)


class Ec2RunnerPool(pulumi.ComponentResource):
    """`.runners`: per runner name, instance_id, private_ip, availability_zone, ssm/console commands."""

    runners: pulumi.Output[list[dict[str, Any]]]
    labels: list[str]
    runs_on: str

    def __init__(
        self,
        name: str,
        args: RunnerPoolArgs,
        profile: HostProfile,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(f"arm64-runners:{profile.module}:RunnerPool", name, None, opts)
        config, pool = args.config, args.pool
        check_instance_type(pool, profile)
        child = pulumi.ResourceOptions(parent=self)
        self.labels = list(config.runner_labels(pool))
        self.runs_on = "runs-on: [" + ", ".join(self.labels) + "]"
        check_user_data_size(config, pool, profile)

        network = args.network or StackNetwork(
            f"{name}-network", StackNetworkArgs(stack=config.stack, settings=config.aws), child
        )
        tags = pool_tags(config, pool)
        image_id = pool_image(name, ami=pool.ami, architecture=profile.architecture, pool=pool.name, opts=child)
        host = PoolHost(
            stack=config.stack,
            pool=pool.name,
            instance_type=pool.instance_type,
            disk_gb=pool.disk_gb,
            spot=pool.spot,
            idle_action=config.runner.idle_action,
        )
        template = launch_template(
            f"{name}-template",
            host=host,
            image_id=image_id,
            security_group_id=network.security_group_id,
            settings=config.aws,
            tags=tags,
            opts=child,
        )
        region = pulumi.Output.from_input(config.aws.region) if config.aws.region else _current_region(child)
        runners = [
            self._runner(name, index, args, profile, host, template, image_id, network, region, tags, child)
            for index in range(pool.count)
        ]
        self.runners = pulumi.Output.all(*runners).apply(list)
        self.register_outputs({"runners": self.runners, "labels": self.labels, "runs_on": self.runs_on})

    def _runner(
        self,
        name: str,
        index: int,
        args: RunnerPoolArgs,
        profile: HostProfile,
        host: PoolHost,
        template: aws.ec2.LaunchTemplate,
        image_id: pulumi.Output[str],
        network: StackNetwork,
        region: pulumi.Output[str],
        tags: dict[str, str],
        opts: pulumi.ResourceOptions,
    ) -> pulumi.Output[dict[str, Any]]:
        config, pool = args.config, args.pool
        runner_name = config.runner_name(pool, index)
        prefix = f"{name}-{index}"
        registration = RunnerRegistration(
            f"{prefix}-registration",
            RunnerRegistrationArgs.for_runner(
                config,
                runner_name,
                self.labels,
                image_id.apply(lambda ami: replacement_fingerprint(config, pool, profile, host, runner_name, ami)),
                args.github_token,
            ),
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(args.registration_depends_on))),
        )
        parameter = token_parameter(
            f"{prefix}-token",
            stack=config.stack,
            runner_name=runner_name,
            registration_id=registration.id,
            token=registration.token,
            ephemeral=config.runner.ephemeral,
            tags=tags,
            opts=opts,
        )
        identity = RunnerIdentity(prefix, parameter_arn=parameter.arn, tags=tags, opts=opts)
        user_data = pulumi.Output.all(parameter.name, region).apply(
            lambda values: user_data_base64(
                render_user_data(bootstrap_spec(config, pool, profile, runner_name, values[0], values[1]))
            )
        )
        subnet_id = network.subnet_ids.apply(lambda ids: ids[index % len(ids)])
        instance: RunnerHost = runner_instance(
            f"{prefix}-instance",
            runner_name=runner_name,
            template=template,
            spot=pool.spot,
            subnet_id=subnet_id,
            instance_profile=identity.profile.name,
            user_data=user_data,
            tags=tags,
            # The role must allow the hand-off before the instance boots and reads its token.
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=[identity.policy, identity.ssm_core])
            ),
        )
        return pulumi.Output.all(instance.instance_id, instance.private_ip, instance.availability_zone, region).apply(
            lambda v: runner_record(runner_name, pool, v[0], v[1], v[2], v[3])
        )


def check_instance_type(pool: Ec2Pool, profile: HostProfile) -> None:
    """Validation refuses this already; asserted again so a pool can never boot the wrong architecture."""
    if not profile.accepts_instance_type(pool.instance_type):
        raise ValueError(
            f"pool {pool.name!r} ({pool.cloud}): instance type {pool.instance_type!r} is not "
            f"{profile.architecture}; use {profile.instance_type_hint}"
        )


def bootstrap_spec(
    config: StackConfig, pool: Ec2Pool, profile: HostProfile, runner_name: str, parameter: str, region: str
) -> BootstrapSpec:
    return BootstrapSpec(
        runner_name=runner_name,
        registration_url=config.github.registration_url,
        labels=config.runner_labels(pool),
        runner=config.runner,
        runner_group=config.github.runner_group,
        handoff=handoff_for(parameter, region),
        variant=profile.variant,
    )


def check_user_data_size(config: StackConfig, pool: Ec2Pool, profile: HostProfile) -> None:
    """Fail the preview, before any resource exists, when a runner's user-data cannot fit in EC2's 16 KiB.

    Rendered with the longest values the real render can see (last runner's name, a full-length
    parameter path, the longest region name); the real render is checked again when it is known.
    """
    runner_name = config.runner_name(pool, max(pool.count - 1, 0))
    longest_parameter = parameter_name(config.stack, runner_name, "f" * 12)
    region = config.aws.region or LONGEST_REGION
    spec = bootstrap_spec(config, pool, profile, runner_name, longest_parameter, region)
    user_data_base64(render_user_data(spec))


def replacement_fingerprint(
    config: StackConfig, pool: Ec2Pool, profile: HostProfile, host: PoolHost, runner_name: str, ami: str
) -> str:
    """Everything whose change needs a new instance, hence a new registration (and token)."""
    settings = {
        "runner_name": runner_name,
        "labels": list(config.runner_labels(pool)),
        "runner_version": config.runner.version,
        "runner_sha256": config.runner.sha256,
        "ephemeral": config.runner.ephemeral,
        "runner_group": config.github.runner_group,
        "registration_url": config.github.registration_url,
        "ami": ami,
        "instance_type": host.instance_type,
        "disk_gb": host.disk_gb,
        "spot": host.spot,
        "idle_action": host.idle_action,
        "metadata_hop_limit": config.aws.metadata_hop_limit,
        "ssh_key_name": config.aws.ssh_key_name,
        "variant": profile.variant,
        "template_digest": template_digest(profile.variant),
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def runner_record(
    runner_name: str, pool: Ec2Pool, instance_id: str, private_ip: str, zone: str, region: str
) -> dict[str, Any]:
    return {
        "name": runner_name,
        "cloud": pool.cloud,
        "pool": pool.name,
        "instance_id": instance_id,
        "private_ip": private_ip,
        "availability_zone": zone,
        "ssm_command": f"aws ssm start-session --region {region} --target {instance_id}",
        "console_command": (
            f"aws ec2 get-console-output --region {region} --instance-id {instance_id} --latest --output text"
        ),
    }


def _current_region(opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
    return aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=opts.parent)).region


class RunnerPool(Ec2RunnerPool):
    """`arm64-runners:aws:RunnerPool`: Graviton instances running the arm64 runner natively."""

    def __init__(self, name: str, args: RunnerPoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, GRAVITON, opts)
