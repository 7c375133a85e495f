"""The machine image of a pool: Canonical's Ubuntu 24.04 for the pool's architecture, pinned once.

Canonical publishes the current AMI id per region in a public SSM parameter. Feeding that straight into
the instances would replace every runner whenever Canonical publishes an image (and show it in every PR
preview), so the resolved id goes through `PinnedValue`: the first id seen stays until someone runs
`pulumi up --replace <urn of the pin>`. `ami:` in the pool pins an image by hand and skips the lookup.
Either way the image's architecture is checked at preview through `get_ami`.
"""

from __future__ import annotations

from typing import Literal

import pulumi
import pulumi_aws as aws

from components.pinned import PinnedValue

Architecture = Literal["arm64", "x86_64"]

#: Canonical's public SSM parameters (Ubuntu 24.04 LTS, EBS gp3 root), per EC2 architecture name.
UBUNTU_AMI_PARAMETERS: dict[Architecture, str] = {
    "arm64": "/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id",
    "x86_64": "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
}


def pool_image(
    name: str, *, ami: str | None, architecture: Architecture, pool: str, opts: pulumi.ResourceOptions
) -> pulumi.Output[str]:
    """The AMI id the pool's launch template uses, after an architecture check."""
    invoke_opts = pulumi.InvokeOutputOptions(parent=opts.parent)
    if ami is not None:
        return _checked(ami, architecture, pool, "pinned by hand (ami:)", invoke_opts)
    candidate = aws.ssm.get_parameter_output(name=UBUNTU_AMI_PARAMETERS[architecture], opts=invoke_opts).value
    # The candidate is checked too, so a wrong parameter fails even the first preview, when the pin's
    # value is not known yet.
    checked_candidate = _checked(candidate, architecture, pool, "Ubuntu 24.04 lookup", invoke_opts)
    pin = PinnedValue(f"{name}-ami", checked_candidate, opts)
    return _checked(pin.value, architecture, pool, "pinned Ubuntu 24.04", invoke_opts)


def _checked(
    ami: pulumi.Input[str],
    architecture: Architecture,
    pool: str,
    origin: str,
    opts: pulumi.InvokeOutputOptions,
) -> pulumi.Output[str]:
    image = aws.ec2.get_ami_output(
        filters=pulumi.Output.from_input(ami).apply(lambda image_id: [{"name": "image-id", "values": [image_id]}]),
        opts=opts,
    )
    return pulumi.Output.all(pulumi.Output.from_input(ami), image.architecture).apply(
        lambda found: _require_architecture(found[0], found[1], architecture, pool, origin)
    )


def _require_architecture(ami: str, found: str, wanted: Architecture, pool: str, origin: str) -> str:
    if found != wanted:
        raise ValueError(f"pool {pool!r}: AMI {ami} ({origin}) is {found}, the pool needs {wanted}")
    return ami
