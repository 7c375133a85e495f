"""A pool of runners on Oracle Cloud Ampere A1: capacity choice, pinned image, per runner a GitHub
registration and a VM.Standard.A1.Flex instance that receives its token through instance metadata.

Per pool: one ComputeCapacityReport per candidate availability domain (components.oci.capacity) and one
pinned image (components.oci.image). Per runner i: `{name}-{i}-registration` and `{name}-{i}-instance`.
The two are replaced together: the registration's fingerprint covers everything that replaces the
instance (user data, image, shape, OCPUs, memory, disk, domain, subnet), and the instance is replaced
whenever its metadata — which carries the registration's token — changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
import pulumi_oci as oci

from components.bootstrap import BootstrapSpec, gzip_base64, render_user_data, template_digest
from components.config.limits import OCI_IDLE_RECLAIM_DAYS
from components.config.model import OciPool, OciSettings, StackConfig
from components.github import RunnerRegistration, RunnerRegistrationArgs
from components.oci import commands
from components.oci.capacity import CapacityChoice
from components.oci.checks import TOKEN_RESERVE_BYTES, check_metadata_size, check_pool
from components.oci.handoff import HANDOFF, instance_metadata
from components.oci.image import resolve_image
from components.oci.network import StackNetwork, StackNetworkArgs
from components.pinned import PinnedValue
from components.tags import pool_tags

#: An ISO-8601 expiry as GitHub returns it, to size the metadata before the real one exists.
_EXPIRY_EXAMPLE = "2026-11-27T04:21:07.000+00:00"


@dataclass
class RunnerPoolArgs:
    config: StackConfig
    pool: OciPool
    #: The stack's GitHub credential (secret), for the registrations.
    github_token: pulumi.Input[str]
    #: The stack's shared network; None builds one for this pool alone.
    network: StackNetwork | None = None
    #: Resources every registration waits for (e.g. the organization runner group).
    registration_depends_on: Sequence[pulumi.Resource] = field(default_factory=list)


class RunnerPool(pulumi.ComponentResource):
    """`.runners`: per runner name, instance_id, availability_domain, private_ip and OCI CLI commands."""

    runners: pulumi.Output[list[dict[str, Any]]]
    availability_domain: pulumi.Output[str]
    image_id: pulumi.Output[str]
    labels: list[str]

    def __init__(self, name: str, args: RunnerPoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("arm64-runners:oci:RunnerPool", name, None, opts)
        config, pool = args.config, args.pool
        settings = _settings(config)
        check_pool(pool)
        child = pulumi.ResourceOptions(parent=self)
        self.labels = list(config.runner_labels(pool))
        user_data = {runner: _user_data(config, pool, runner) for runner in config.runner_names(pool)}
        for runner, encoded in user_data.items():
            check_metadata_size(
                runner,
                instance_metadata(encoded, "", _EXPIRY_EXAMPLE, settings.ssh_public_key),
                reserve=TOKEN_RESERVE_BYTES[config.runner.ephemeral],
            )
        _warn_about_idle(self, config, settings, pool)

        network = args.network or StackNetwork(f"{name}-network", StackNetworkArgs(config=config), child)
        domains = oci.identity.get_availability_domains(compartment_id=settings.capacity_compartment_id)
        capacity = CapacityChoice(
            name,
            pool_name=pool.name,
            compartment_id=settings.capacity_compartment_id,
            shape=pool.shape,
            ocpus=pool.ocpus,
            memory_gb=pool.memory_gb,
            domain_names=[domain.name for domain in domains.availability_domains],
            numbers=pool.availability_domains,
            opts=child,
        )
        # The reports already keep their answer in state; the pin also guards the instances against a
        # report the provider might ever re-create (and against a reordered list). Its name carries the
        # shape configuration, so a new configuration asks afresh: the instances are replaced then anyway.
        domain_pin = PinnedValue(f"{name}-domain-{pool.ocpus}ocpu-{pool.memory_gb}gb", capacity.domain, child)
        self.availability_domain = domain_pin.value
        self.image_id = resolve_image(name, settings.compartment_id, pool.shape, pool.image_id, child)
        runners = [
            self._runner(name, index, args, settings, user_data[config.runner_name(pool, index)], network, child)
            for index in range(pool.count)
        ]
        self.runners = pulumi.Output.all(*runners).apply(list)
        self.register_outputs(
            {"runners": self.runners, "availability_domain": self.availability_domain, "image_id": self.image_id}
        )

    def _runner(
        self,
        name: str,
        index: int,
        args: RunnerPoolArgs,
        settings: OciSettings,
        user_data: str,
        network: StackNetwork,
        opts: pulumi.ResourceOptions,
    ) -> pulumi.Output[dict[str, Any]]:
        config, pool = args.config, args.pool
        runner_name = config.runner_name(pool, index)
        prefix = f"{name}-{index}"
        fingerprint = pulumi.Output.all(self.image_id, self.availability_domain, network.subnet_id).apply(
            lambda values: replacement_fingerprint(config, pool, runner_name, user_data, *values)
        )
        registration = RunnerRegistration(
            f"{prefix}-registration",
            RunnerRegistrationArgs.for_runner(config, runner_name, self.labels, fingerprint, args.github_token),
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(args.registration_depends_on))),
        )
        plain_metadata: pulumi.Output[dict[str, str]] = pulumi.Output.all(
            registration.token, registration.expires_at
        ).apply(lambda values: _checked_metadata(runner_name, user_data, values[0], values[1], settings.ssh_public_key))
        # The token makes it secret already; said explicitly so no refactor can drop it.
        metadata: pulumi.Output[dict[str, str]] = pulumi.Output.secret(cast(Any, plain_metadata))
        tags = pool_tags(config, pool)
        instance = oci.core.Instance(
            f"{prefix}-instance",
            compartment_id=settings.compartment_id,
            availability_domain=self.availability_domain,
            display_name=runner_name,
            shape=pool.shape,
            shape_config={"ocpus": float(pool.ocpus), "memory_in_gbs": float(pool.memory_gb)},
            source_details={
                "source_type": "image",
                "source_id": self.image_id,
                "boot_volume_size_in_gbs": str(pool.disk_gb),
            },
            create_vnic_details={"subnet_id": network.subnet_id, "display_name": runner_name, "freeform_tags": tags},
            instance_options={"are_legacy_imds_endpoints_disabled": True},
            metadata=metadata,
            freeform_tags=tags,
            # Boot volumes count against the 200 GB Always Free block storage: never leave one behind.
            preserve_boot_volume=False,
            opts=pulumi.ResourceOptions.merge(
                opts,
                pulumi.ResourceOptions(
                    # Metadata is updatable in place on OCI, but a new token needs a new boot.
                    replace_on_changes=["metadata"],
                    # Old and new instance together would exceed the free-tier allowance and share a name.
                    delete_before_replace=True,
                ),
            ),
        )
        return pulumi.Output.all(instance.id, instance.availability_domain, instance.private_ip).apply(
            lambda values: runner_record(runner_name, pool, values[0], values[1], values[2])
        )


def _settings(config: StackConfig) -> OciSettings:
    if config.oci is None:
        raise ValueError("an oci pool needs the stack's oci settings (arm64-runners:oci.compartmentId)")
    return config.oci


def bootstrap_spec(config: StackConfig, pool: OciPool, runner_name: str) -> BootstrapSpec:
    return BootstrapSpec(
        runner_name=runner_name,
        registration_url=config.github.registration_url,
        labels=config.runner_labels(pool),
        runner=config.runner,
        runner_group=config.github.runner_group,
        handoff=HANDOFF,
        variant="native",
    )


def _user_data(config: StackConfig, pool: OciPool, runner_name: str) -> str:
    """Base64 of the gzipped #cloud-config (cloud-init unpacks gzip; OCI wants base64)."""
    return gzip_base64(render_user_data(bootstrap_spec(config, pool, runner_name)))


def _checked_metadata(
    runner_name: str, user_data: str, token: str, expires_at: str | None, ssh_public_key: str | None
) -> dict[str, str]:
    metadata = instance_metadata(user_data, token, expires_at or "", ssh_public_key)
    check_metadata_size(runner_name, metadata)
    return metadata


def replacement_fingerprint(
    config: StackConfig,
    pool: OciPool,
    runner_name: str,
    user_data: str,
    image_id: str,
    availability_domain: str,
    subnet_id: str,
) -> str:
    """Digest of everything whose change replaces the instance (so the registration goes with it)."""
    parts = {
        "name": runner_name,
        "labels": list(config.runner_labels(pool)),
        "version": config.runner.version,
        "image": image_id,
        "shape": pool.shape,
        "ocpus": pool.ocpus,
        "memory_gb": pool.memory_gb,
        "disk_gb": pool.disk_gb,
        "availability_domain": availability_domain,
        "subnet": subnet_id,
        "template": template_digest("native"),
        "user_data": hashlib.sha256(user_data.encode()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def runner_record(
    runner_name: str, pool: OciPool, instance_id: str, availability_domain: str, private_ip: str | None
) -> dict[str, Any]:
    return {
        "name": runner_name,
        "cloud": "oci",
        "pool": pool.name,
        "instance_id": instance_id,
        "availability_domain": availability_domain,
        "private_ip": private_ip,
        **commands.for_instance(instance_id),
    }


def _warn_about_idle(resource: pulumi.Resource, config: StackConfig, settings: OciSettings, pool: OciPool) -> None:
    if settings.free_tier:
        pulumi.log.warn(
            f"pool '{pool.name}': Oracle reclaims (stops) Always Free instances that are idle for "
            f"{OCI_IDLE_RECLAIM_DAYS} days — 95th-percentile CPU, network and memory all under 20 % — and a "
            "runner waiting for jobs looks exactly like that. A reclaimed runner is offline until started "
            "again (see each runner's start_command); a Pay-As-You-Go account keeps Always Free resources "
            "free and is not reclaimed.",
            resource=resource,
        )
    if config.runner.idle_action == "stop":
        pulumi.log.warn(
            f"pool '{pool.name}': idleAction 'stop' powers the instance off from inside; OCI keeps billing "
            "an instance shut down from its OS (only a stop through the API pauses billing), and the "
            "runner stays offline until started with its start_command. On OCI prefer idleAction 'none'.",
            resource=resource,
        )
