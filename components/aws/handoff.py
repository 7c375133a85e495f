"""Token hand-off through SSM Parameter Store: one SecureString per runner, deleted by the instance once read.

Parameter Store keeps every version of a parameter (`GetParameterHistory`) until the parameter itself is
deleted, so overwriting a token after reading it would leave it readable. Deleting the parameter is the
only thing that removes it everywhere. That is why the parameter is not an `aws.ssm.Parameter`: Pulumi
would see the instance's delete on the next refresh and put the token back. `SsmHandoff` is a small
dynamic resource instead: it puts the parameter when the registration is minted, deletes it (if still
there) on destroy, and a refresh keeps it as it is.

- The name carries a generation derived from the registration's id: a replaced registration is a new
  name, hence new user-data and a new instance (components/runner.py).
- The instance reads it with its own role and deletes it (cloud-init/handoff/aws-ssm.sh); the role may
  read and delete exactly this parameter (components/aws/identity.py).
- The wake function (components/aws/wake.py) puts a fresh token at the same name before it starts a
  stopped runner that must register again; the instance deletes that one too.
- The put uses the deploying identity's AWS credentials from the SDK's default chain (environment,
  profile, SSO, instance role), like the AWS CLI, in the region the stack names.
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

import pulumi
import pulumi.dynamic

from components.bootstrap import TokenHandoff
from components.dynamic import DynamicResource

HANDOFF_SCRIPT = "aws-ssm.sh"
#: The generation in a render made before the registration exists, for the replacement key (same length as a
#: real one).
UNMINTED_GENERATION = "<generation>"


def generation(registration_id: str) -> str:
    """A short, stable digest of the registration's id: new registration, new parameter."""
    return hashlib.sha256(registration_id.encode()).hexdigest()[:12]


def parameter_name(stack: str, runner_name: str, generation_id: str) -> str:
    return f"/arm64-runners/{stack}/{runner_name}/{generation_id}/token"


def parameter_prefix(stack: str) -> str:
    """Every hand-off parameter of the stack lives under this path."""
    return f"/arm64-runners/{stack}/"


def parameter_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:ssm:{region}:{account}:parameter{name}"


def handoff_for(parameter_path: str, region: str) -> TokenHandoff:
    """What the bootstrap needs to run aws-ssm.sh: where the token is; nothing secret."""
    return TokenHandoff(script=HANDOFF_SCRIPT, settings={"SSM_PARAMETER_NAME": parameter_path, "AWS_REGION": region})


class SsmHandoffProvider(pulumi.dynamic.ResourceProvider):
    """Puts the SecureString at create, deletes it at delete; refresh never resurrects or forgets it."""

    def _ssm(self, props: dict[str, Any]) -> Any:
        import boto3

        return boto3.client("ssm", region_name=str(props["region"]))

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        ssm = self._ssm(props)
        name = str(props["parameter_name"])
        request: dict[str, Any] = {
            "Name": name,
            "Value": str(props["value"]),
            "Type": "SecureString",
            "Tier": str(props.get("tier") or "Standard"),
            "Description": str(props.get("description") or ""),
        }
        tags = [{"Key": str(k), "Value": str(v)} for k, v in (props.get("tags") or {}).items()]
        try:
            ssm.put_parameter(**request, Tags=tags)
        except ssm.exceptions.ParameterAlreadyExists:
            # A leftover of an interrupted create under the same generation: this token replaces it.
            ssm.put_parameter(**request, Overwrite=True)
        outs = {k: v for k, v in props.items() if k != "__provider"}
        return pulumi.dynamic.CreateResult(name, outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        replaces = [k for k in ("region", "parameter_name", "value", "tier") if olds.get(k) != news.get(k)]
        return pulumi.dynamic.DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=True)

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        # The instance deleting the parameter is its normal life: state stays as created.
        return pulumi.dynamic.ReadResult(id_, dict(props))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        import contextlib

        ssm = self._ssm(props)
        # Usually read and deleted by its instance already, as intended.
        with contextlib.suppress(ssm.exceptions.ParameterNotFound):
            ssm.delete_parameter(Name=str(props["parameter_name"]))


class SsmHandoff(DynamicResource):
    """The runner's token as an SSM SecureString named `parameter_name`, until its instance reads it."""

    parameter_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        region: str,
        parameter_name: pulumi.Input[str],
        token: pulumi.Output[str],
        ephemeral: bool,
        runner_name: str,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions,
        provider: SsmHandoffProvider | None = None,
    ) -> None:
        props = {
            "region": region,
            "parameter_name": parameter_name,
            "value": pulumi.Output.secret(cast(Any, token)),
            # Standard parameters hold 4 KB; an encoded JIT config (ephemeral runners) can come close to
            # that, so ephemeral runners use the advanced tier (8 KB).
            "tier": "Advanced" if ephemeral else "Standard",
            "description": f"arm64-runners: registration of {runner_name}, deleted by its instance once read",
            "tags": {**tags, "Name": runner_name},
        }
        super().__init__(
            provider or SsmHandoffProvider(),
            name,
            props,
            pulumi.ResourceOptions.merge(pulumi.ResourceOptions(additional_secret_outputs=["value"]), opts),
        )
