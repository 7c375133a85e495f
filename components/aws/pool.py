"""A pool of runners on EC2: the pool's launch template and image, and one Runner per slot.

Creates, under `arm64-runners:<profile.module>:RunnerPool` `{name}`:
- `{name}-image` (a pinned AMI lookup) and `{name}-template` (launch template: image, type, IMDSv2, encrypted
  gp3 root, no-ingress security group, shutdown behaviour, tags);
- per runner i, a `Runner` `{name}-{i}` (components/runner.py) whose EC2 part is `Ec2Host.launch`: the SSM
  hand-off `{name}-{i}-token`, the role `{name}-{i}-role` (+ policy, Session Manager attachment, instance
  profile) and the instance `{name}-{i}-instance` (a persistent spot request for spot pools).

`aws` pools (Graviton, native arm64) and `emulated` pools (x86_64 hosts running the arm64 runner under
QEMU) are the same machinery; a `HostProfile` says what differs (architecture, instance-type check,
bootstrap variant, type token). This module knows nothing of emulation: components/emulated supplies
its own profile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.aws.compute import PoolHost, launch_template, launch_template_inputs, runner_instance, user_data_base64
from components.aws.handoff import (
    UNMINTED_GENERATION,
    SsmHandoff,
    generation,
    handoff_for,
    parameter_arn,
    parameter_name,
)
from components.aws.identity import RunnerIdentity
from components.aws.image import Architecture, pool_image
from components.aws.network import StackNetwork, StackNetworkArgs
from components.bootstrap import TokenHandoff
from components.config.limits import is_graviton
from components.config.model import AwsPool, EmulatedPool, StackConfig
from components.github import RunnerRegistration
from components.runner import RunnerSlot, check_user_data, deploy_runners
from components.tags import TAG_HANDOFF, TAG_RUNNER, pool_tags

Ec2Pool = AwsPool | EmulatedPool


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


@dataclass(frozen=True)
class Ec2Boot:
    """How an EC2 runner of the pool boots (components.runner.HostBoot): its user-data, its hand-off."""

    config: StackConfig
    pool: Ec2Pool
    profile: HostProfile
    region: str

    @property
    def variant(self) -> Literal["native", "emulated"]:
        return self.profile.variant

    def parameter(self, slot: RunnerSlot, registration_id: str | None) -> str:
        gen = generation(registration_id) if registration_id is not None else UNMINTED_GENERATION
        return parameter_name(self.config.stack, slot.name, gen)

    def handoff(self, slot: RunnerSlot, registration_id: str | None) -> TokenHandoff:
        return handoff_for(self.parameter(slot, registration_id), self.region)

    def encode_user_data(self, slot: RunnerSlot, text: str) -> str:
        return user_data_base64(text)


@dataclass(frozen=True)
class Ec2Host(Ec2Boot):
    """The EC2 part of every runner of one pool (components.runner.RunnerHost)."""

    network: StackNetwork
    template: aws.ec2.LaunchTemplate
    #: The inputs `template` was created from: a change is a new template version, a new instance.
    template_inputs: Mapping[str, Any]
    partition: pulumi.Output[str]
    account: pulumi.Output[str]
    tags: Mapping[str, str]

    def subnet_id(self, slot: RunnerSlot) -> pulumi.Output[str]:
        return self.network.subnet_ids.apply(lambda ids: ids[slot.index % len(ids)])

    def shape(self, slot: RunnerSlot) -> pulumi.Input[Mapping[str, Any]]:
        return {"template": dict(self.template_inputs), "subnet_id": self.subnet_id(slot), "spot": self.pool.spot}

    def launch(
        self,
        name: str,
        slot: RunnerSlot,
        registration: RunnerRegistration,
        user_data: pulumi.Output[str],
        opts: pulumi.ResourceOptions,
    ) -> pulumi.Output[dict[str, Any]]:
        parameter = registration.id.apply(lambda rid: self.parameter(slot, rid))
        handoff = SsmHandoff(
            f"{name}-token",
            region=self.region,
            parameter_name=parameter,
            token=registration.token,
            ephemeral=self.config.runner.ephemeral,
            runner_name=slot.name,
            tags=dict(self.tags),
            opts=opts,
        )
        arn = pulumi.Output.all(self.partition, self.account, handoff.parameter_name).apply(
            lambda v: parameter_arn(v[0], self.region, v[1], v[2])
        )
        identity = RunnerIdentity(name, parameter_arn=arn, tags=dict(self.tags), opts=opts)
        instance = runner_instance(
            f"{name}-instance",
            runner_name=slot.name,
            template=self.template,
            spot=self.pool.spot,
            subnet_id=self.subnet_id(slot),
            instance_profile=identity.profile.name,
            user_data=user_data,
            tags=handoff.parameter_name.apply(
                lambda p: {**self.tags, "Name": slot.name, TAG_RUNNER: slot.name, TAG_HANDOFF: p}
            ),
            # The role must allow the hand-off, and the token be there, before the instance boots.
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=[handoff, identity.policy, identity.ssm_core])
            ),
        )
        return pulumi.Output.all(instance.instance_id, instance.private_ip, instance.availability_zone).apply(
            lambda v: runner_record(slot, self.region, v[0], v[1], v[2])
        )


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
        if config.aws.region is None:
            raise ValueError("aws and emulated pools need aws:region (validation requires it)")
        child = pulumi.ResourceOptions(parent=self)
        self.labels = list(config.runner_labels(pool))
        self.runs_on = "runs-on: [" + ", ".join(self.labels) + "]"
        boot = Ec2Boot(config=config, pool=pool, profile=profile, region=config.aws.region)
        slots = [RunnerSlot(config, pool, index) for index in range(pool.count)]
        check_user_data(slots, boot)

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
        template_inputs = launch_template_inputs(
            host=host,
            image_id=image_id,
            security_group_id=network.security_group_id,
            settings=config.aws,
            tags=tags,
        )
        invoke = pulumi.InvokeOutputOptions(parent=self)
        ec2 = Ec2Host(
            **vars(boot),
            network=network,
            template=launch_template(f"{name}-template", template_inputs, child),
            template_inputs=template_inputs,
            partition=aws.get_partition_output(opts=invoke).partition,
            account=aws.get_caller_identity_output(opts=invoke).account_id,
            tags=tags,
        )
        self.runners = deploy_runners(name, slots, ec2, args.github_token, args.registration_depends_on, child)
        self.register_outputs({"runners": self.runners, "labels": self.labels, "runs_on": self.runs_on})


def check_instance_type(pool: Ec2Pool, profile: HostProfile) -> None:
    """Validation refuses this already; asserted again so a pool can never boot the wrong architecture."""
    if not profile.accepts_instance_type(pool.instance_type):
        raise ValueError(
            f"pool {pool.name!r} ({pool.cloud}): instance type {pool.instance_type!r} is not "
            f"{profile.architecture}; use {profile.instance_type_hint}"
        )


def runner_record(slot: RunnerSlot, region: str, instance_id: str, private_ip: str, zone: str) -> dict[str, Any]:
    return {
        "name": slot.name,
        "cloud": slot.pool.cloud,
        "pool": slot.pool.name,
        "instance_id": instance_id,
        "private_ip": private_ip,
        "availability_zone": zone,
        "ssm_command": f"aws ssm start-session --region {region} --target {instance_id}",
        "console_command": (
            f"aws ec2 get-console-output --region {region} --instance-id {instance_id} --latest --output text"
        ),
    }


class RunnerPool(Ec2RunnerPool):
    """`arm64-runners:aws:RunnerPool`: Graviton instances running the arm64 runner natively."""

    def __init__(self, name: str, args: RunnerPoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, GRAVITON, opts)
