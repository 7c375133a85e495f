"""A pool of runners on Oracle Cloud Ampere A1: capacity choice, pinned image, and one Runner per slot.

Creates, under `arm64-runners:oci:RunnerPool` `{name}`:
- one ComputeCapacityReport per candidate availability domain (components.oci.capacity), the chosen
  domain pinned (`{name}-domain-…`), and the pinned image (components.oci.image);
- per runner i, a `Runner` `{name}-{i}` (components/runner.py) whose OCI part is `OciHost.launch`: the
  VM.Standard.A1.Flex instance `{name}-{i}-instance`, whose metadata carries the registration's token.

The registration and the instance are replaced together (components/runner.py): the registration's key
covers the user data and `OciHost.shape` — the instance's inputs besides its metadata — and the instance is
replaced whenever its metadata, which carries the registration's token, changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import pulumi
import pulumi_oci as oci

from components.bootstrap import TokenHandoff, gzip_base64
from components.config.limits import OCI_IDLE_RECLAIM_DAYS
from components.config.model import OciPool, OciSettings, StackConfig
from components.github import RunnerRegistration
from components.oci import commands
from components.oci.capacity import CapacityChoice
from components.oci.checks import TOKEN_RESERVE_BYTES, check_metadata_size, check_pool
from components.oci.handoff import HANDOFF, instance_metadata
from components.oci.image import resolve_image
from components.oci.network import StackNetwork, StackNetworkArgs
from components.pinned import PinnedValue
from components.runner import RunnerSlot, check_user_data, deploy_runners
from components.tags import pool_tags

#: An ISO-8601 expiry as GitHub returns it, to size the metadata before the real one exists.
_EXPIRY_EXAMPLE = "2026-11-27T04:21:07.000+00:00"


@dataclass
class RunnerPoolArgs:
    config: StackConfig
    pool: OciPool
    #: The stack's GitHub credential (secret), for the registrations.
    github_token: pulumi.Output[str]
    #: The stack's shared network; None builds one for this pool alone.
    network: StackNetwork | None = None
    #: Resources every registration waits for (e.g. the organization runner group).
    registration_depends_on: Sequence[pulumi.Resource] = field(default_factory=list)


@dataclass(frozen=True)
class OciBoot:
    """How an A1 runner boots (components.runner.HostBoot): native bootstrap, token in instance metadata."""

    config: StackConfig
    settings: OciSettings

    @property
    def variant(self) -> Literal["native"]:
        return "native"

    def handoff(self, slot: RunnerSlot, registration_id: str | None) -> TokenHandoff:
        return HANDOFF  # a fixed metadata key: the registration reaches the instance through its value

    def encode_user_data(self, slot: RunnerSlot, text: str) -> str:
        """Base64 of the gzipped #cloud-config (cloud-init unpacks gzip; OCI wants base64), refused when the
        metadata it goes into could exceed OCI's cap once the token is in."""
        encoded = gzip_base64(text)
        check_metadata_size(
            slot.name,
            instance_metadata(encoded, "", _EXPIRY_EXAMPLE, self.settings.ssh_public_key),
            reserve=TOKEN_RESERVE_BYTES[self.config.runner.ephemeral],
        )
        return encoded


@dataclass(frozen=True)
class OciHost(OciBoot):
    """The OCI part of every runner of one pool (components.runner.RunnerHost)."""

    pool: OciPool
    availability_domain: pulumi.Output[str]
    image_id: pulumi.Output[str]
    subnet_id: pulumi.Output[str]
    tags: Mapping[str, str]

    def shape(self, slot: RunnerSlot) -> pulumi.Input[Mapping[str, Any]]:
        """The instance's inputs besides its metadata (the metadata's ssh key included)."""
        pool = self.pool
        return {
            "compartment_id": self.settings.compartment_id,
            "availability_domain": self.availability_domain,
            "display_name": slot.name,
            "shape": pool.shape,
            "shape_config": {"ocpus": float(pool.ocpus), "memory_in_gbs": float(pool.memory_gb)},
            "source_details": {
                "source_type": "image",
                "source_id": self.image_id,
                "boot_volume_size_in_gbs": str(pool.disk_gb),
            },
            "create_vnic_details": {
                "subnet_id": self.subnet_id,
                "display_name": slot.name,
                "freeform_tags": dict(self.tags),
            },
            "instance_options": {"are_legacy_imds_endpoints_disabled": True},
            "freeform_tags": dict(self.tags),
            # Boot volumes count against the 200 GB Always Free block storage: never leave one behind.
            "preserve_boot_volume": False,
            "ssh_authorized_keys": self.settings.ssh_public_key,
        }

    def launch(
        self,
        name: str,
        slot: RunnerSlot,
        registration: RunnerRegistration,
        user_data: pulumi.Output[str],
        opts: pulumi.ResourceOptions,
    ) -> pulumi.Output[dict[str, Any]]:
        inputs = dict(cast(Mapping[str, Any], self.shape(slot)))
        ssh_key = inputs.pop("ssh_authorized_keys")
        plain_metadata: pulumi.Output[dict[str, str]] = pulumi.Output.all(
            user_data, registration.token, registration.expires_at
        ).apply(lambda v: _checked_metadata(slot.name, v[0], v[1], v[2], ssh_key))
        # The token makes it secret already; said explicitly so no refactor can drop it.
        metadata: pulumi.Output[dict[str, str]] = pulumi.Output.secret(cast(Any, plain_metadata))
        instance = oci.core.Instance(
            f"{name}-instance",
            **inputs,
            metadata=metadata,
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
            lambda v: runner_record(slot, v[0], v[1], v[2])
        )


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
        boot = OciBoot(config=config, settings=settings)
        slots = [RunnerSlot(config, pool, index) for index in range(pool.count)]
        check_user_data(slots, boot)
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
        host = OciHost(
            **vars(boot),
            pool=pool,
            availability_domain=self.availability_domain,
            image_id=self.image_id,
            subnet_id=network.subnet_id,
            tags=pool_tags(config, pool),
        )
        self.runners = deploy_runners(name, slots, host, args.github_token, args.registration_depends_on, child)
        self.register_outputs(
            {"runners": self.runners, "availability_domain": self.availability_domain, "image_id": self.image_id}
        )


def _settings(config: StackConfig) -> OciSettings:
    if config.oci is None:
        raise ValueError("an oci pool needs the stack's oci settings (arm64-runners:oci.compartmentId)")
    return config.oci


def _checked_metadata(
    runner_name: str, user_data: str, token: str, expires_at: str | None, ssh_public_key: str | None
) -> dict[str, str]:
    metadata = instance_metadata(user_data, token, expires_at or "", ssh_public_key)
    check_metadata_size(runner_name, metadata)
    return metadata


def runner_record(
    slot: RunnerSlot, instance_id: str, availability_domain: str, private_ip: str | None
) -> dict[str, Any]:
    return {
        "name": slot.name,
        "cloud": "oci",
        "pool": slot.pool.name,
        "instance_id": instance_id,
        "availability_domain": availability_domain,
        "private_ip": private_ip,
        **commands.for_instance(instance_id),
    }


def _warn_about_idle(resource: pulumi.Resource, config: StackConfig, settings: OciSettings, pool: OciPool) -> None:
    if settings.free_tier:
        # A fact of the account type, not a problem with the stack: said as information.
        pulumi.log.info(
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
