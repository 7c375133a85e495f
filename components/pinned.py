"""PinnedValue: remember a looked-up value (an AMI, an OCI image) the first time, then never move.

A lookup such as "latest Ubuntu 24.04 arm64 AMI" answers differently whenever upstream publishes an
image. Feeding it straight into an instance makes every PR preview show a replacement. A PinnedValue
takes the lookup as `candidate` and exposes `value`: the candidate seen at create, kept in state
forever after; a different candidate later is ignored (no diff, no update).

Moving to the current candidate is a deliberate, one-command step:

    pulumi up --replace '<urn of the PinnedValue>'

(the instances that use `value` are then replaced in the same run, because their image changes).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic

from components.dynamic import DynamicResource


class PinnedValueProvider(pulumi.dynamic.ResourceProvider):
    """Dynamic provider: `value` is the candidate at create and is never recomputed."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        import hashlib

        candidate = str(props["candidate"])
        pin_id = "pin-" + hashlib.sha256(candidate.encode()).hexdigest()[:16]
        return pulumi.dynamic.CreateResult(pin_id, {"candidate": candidate, "value": candidate})

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        # A new candidate is exactly what must NOT show up: the pin holds until --replace.
        return pulumi.dynamic.DiffResult(changes=False, replaces=[], stables=["value"])

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        # Nothing lives outside the state: a refresh must keep the pinned value as it is.
        return pulumi.dynamic.ReadResult(id_, dict(props))


class PinnedValue(DynamicResource):
    """`value` = `candidate` as first seen; later candidates are ignored until `--replace`."""

    value: pulumi.Output[str]
    candidate: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        candidate: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            PinnedValueProvider(),
            name,
            {"candidate": candidate, "value": None},
            opts,
        )
