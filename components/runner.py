"""One runner slot on any cloud: registration → token hand-off → instance → record, written once.

Creates, as children of `arm64-runners:runner:Runner` `{name}`:
- `{name}-registration`: a RunnerRegistration (components/github) — mints a registration token (or a JIT
  config) at create, removes the runner from GitHub at destroy, and on refresh reports itself gone when
  GitHub no longer has its runner and its token can no longer bring one back (so the next
  `pulumi up --refresh` mints afresh and replaces the instance);
- whatever the cloud's `RunnerHost.launch` builds for the slot: the token hand-off and the instance
  (AWS: an SSM hand-off, a role and an instance; OCI: an instance whose metadata carries the token).

"The instance is replaced ⇔ its registration is replaced" holds by construction, on every cloud:
- instance ⇒ registration: the registration's `replacement_fingerprint` is a digest of the user-data
  rendered with a fixed hand-off address (the registration it names does not exist yet), plus `RunnerHost.shape` — every other input
  that can replace the instance. A setting added to the stack later reaches one of the two or it cannot
  reach the instance at all.
- registration ⇒ instance: the instance consumes the registration (AWS: the hand-off address derives from
  the registration's id and is in the user-data; OCI: the token is in the instance's metadata), so a new
  registration is a new instance.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi

from components.bootstrap import BootstrapSpec, TokenHandoff, Variant, render_user_data
from components.config.model import Pool, StackConfig
from components.github import RunnerRegistration, RunnerRegistrationArgs


@dataclass(frozen=True)
class RunnerSlot:
    """Runner `index` of `pool`: its name and labels come from the stack."""

    config: StackConfig
    pool: Pool
    index: int

    @property
    def name(self) -> str:
        return self.config.runner_name(self.pool, self.index)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.config.runner_labels(self.pool)

    def bootstrap(self, handoff: TokenHandoff, variant: Variant) -> BootstrapSpec:
        """What the host's cloud-init is rendered from: the stack's settings for this runner."""
        return BootstrapSpec(
            runner_name=self.name,
            registration_url=self.config.github.registration_url,
            labels=self.labels,
            runner=self.config.runner,
            runner_group=self.config.github.runner_group,
            handoff=handoff,
            variant=variant,
        )


class HostBoot(Protocol):
    """How a cloud boots a runner: what its user-data is made of. Needs no resource, so a pool can check
    every slot's user-data before it declares anything."""

    @property
    def variant(self) -> Variant:
        """Bootstrap variant the host runs (cloud-init/variants/)."""
        ...

    def handoff(self, slot: RunnerSlot, registration_id: str | None) -> TokenHandoff:
        """Where the host finds its token; with `registration_id` None, a fixed address (for the replacement key)."""
        ...

    def encode_user_data(self, slot: RunnerSlot, text: str) -> str:
        """The rendered cloud-config as the cloud takes it, refused when the cloud would refuse it."""
        ...


class RunnerHost(HostBoot, Protocol):
    """A cloud's part of a runner slot (components/aws: EC2, components/oci: A1)."""

    def shape(self, slot: RunnerSlot) -> pulumi.Input[Mapping[str, Any]]:
        """Every input besides the user-data whose change replaces the slot's instance."""
        ...

    def launch(
        self,
        name: str,
        slot: RunnerSlot,
        registration: RunnerRegistration,
        user_data: pulumi.Output[str],
        opts: pulumi.ResourceOptions,
    ) -> pulumi.Output[dict[str, Any]]:
        """The hand-off and the instance; returns the runner's record (name, cloud, pool, instance_id, ...)."""
        ...


@dataclass
class RunnerArgs:
    slot: RunnerSlot
    host: RunnerHost
    #: The stack's GitHub credential (secret), for the registration.
    github_token: pulumi.Output[str]
    #: Resources the registration waits for (the organization runner group).
    registration_depends_on: Sequence[pulumi.Resource] = field(default_factory=list)


class Runner(pulumi.ComponentResource):
    """`.record`: the runner's name, cloud, pool, instance id and the cloud's commands for it."""

    record: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: RunnerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("arm64-runners:runner:Runner", name, None, opts)
        slot, host = args.slot, args.host
        child = pulumi.ResourceOptions(parent=self)
        fingerprint = pulumi.Output.from_input(host.shape(slot)).apply(
            lambda shape: replacement_key(render(slot, host, None, canonical=True), shape)
        )
        registration = RunnerRegistration(
            f"{name}-registration",
            RunnerRegistrationArgs.for_runner(slot.config, slot.name, slot.labels, fingerprint, args.github_token),
            pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(args.registration_depends_on))),
        )
        user_data = registration.id.apply(lambda rid: host.encode_user_data(slot, render(slot, host, rid)))
        self.record = host.launch(name, slot, registration, user_data, child)
        self.register_outputs({"record": self.record})


def check_user_data(slots: Sequence[RunnerSlot], boot: HostBoot) -> None:
    """Refuse, before any resource is declared, a user-data the cloud would refuse (size limits)."""
    for slot in slots:
        boot.encode_user_data(slot, render(slot, boot, None))


def render(slot: RunnerSlot, host: HostBoot, registration_id: str | None, *, canonical: bool = False) -> str:
    """The slot's cloud-config; with `registration_id` None, a fixed hand-off address and (`canonical`) its
    files uncompressed: what the replacement key hashes, the same with any zlib."""
    spec = slot.bootstrap(host.handoff(slot, registration_id), host.variant)
    return render_user_data(spec, canonical=canonical)


def replacement_key(user_data: str, shape: Mapping[str, Any]) -> str:
    """Digest of what shapes an instance: its user-data (hand-off address left out) and its shape."""
    document = json.dumps({"user_data": user_data, "shape": shape}, sort_keys=True, default=str)
    return hashlib.sha256(document.encode()).hexdigest()


def deploy_runners(
    pool_name: str,
    slots: Sequence[RunnerSlot],
    host: RunnerHost,
    github_token: pulumi.Output[str],
    registration_depends_on: Sequence[pulumi.Resource],
    opts: pulumi.ResourceOptions,
) -> pulumi.Output[list[dict[str, Any]]]:
    """One Runner per slot (`{pool_name}-{i}`); the records of all of them."""
    runners = [
        Runner(
            f"{pool_name}-{slot.index}",
            RunnerArgs(slot, host, github_token, list(registration_depends_on)),
            opts,
        )
        for slot in slots
    ]
    return pulumi.Output.all(*[runner.record for runner in runners]).apply(list)
