"""Token hand-off through SSM Parameter Store: one SecureString per runner, read once by its instance.

The parameter holds the registration's secret token. The instance reads it at boot with its own role
(cloud-init/handoff/aws-ssm.sh) and overwrites it with `CONSUMED_MARKER`. That overwrite must never
show up as a diff: the parameter ignores changes to `value`. Because of that, a new token can only
reach a new parameter, so the name carries a generation derived from the registration's id: a replaced
registration means a new parameter name, which changes the user-data and replaces the instance.
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from components.bootstrap import TokenHandoff

#: What the instance writes over the token once it has read it (never a valid GitHub token).
CONSUMED_MARKER = "arm64-runners:consumed"
HANDOFF_SCRIPT = "aws-ssm.sh"


def generation(registration_id: str) -> str:
    """A short, stable digest of the registration's id: new registration, new parameter."""
    return hashlib.sha256(registration_id.encode()).hexdigest()[:12]


def parameter_name(stack: str, runner_name: str, generation_id: str) -> str:
    return f"/arm64-runners/{stack}/{runner_name}/{generation_id}/token"


def token_parameter(
    name: str,
    *,
    stack: str,
    runner_name: str,
    registration_id: pulumi.Input[str],
    token: pulumi.Output[str],
    ephemeral: bool,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.ssm.Parameter:
    path = pulumi.Output.from_input(registration_id).apply(
        lambda reg_id: parameter_name(stack, runner_name, generation(reg_id))
    )
    return aws.ssm.Parameter(
        name,
        name=path,
        type="SecureString",
        # Standard parameters hold 4 KB; an encoded JIT config (ephemeral runners) can come close to
        # that, so ephemeral runners use the advanced tier (8 KB).
        tier="Advanced" if ephemeral else "Standard",
        value=pulumi.Output.secret(cast(Any, token)),
        description=f"arm64-runners: registration token of {runner_name}, read once by its instance",
        tags={**tags, "Name": runner_name},
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=["value"])),
    )


def handoff_for(parameter_path: str, region: str) -> TokenHandoff:
    """What the bootstrap needs to run aws-ssm.sh: where the token is; nothing secret."""
    return TokenHandoff(
        script=HANDOFF_SCRIPT,
        settings={
            "SSM_PARAMETER_NAME": parameter_path,
            "AWS_REGION": region,
            "CONSUMED_MARKER": CONSUMED_MARKER,
        },
    )
