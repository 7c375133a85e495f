"""WebhookSecret: a random webhook secret generated once, kept only as a Pulumi secret.

A tiny dynamic resource instead of the `random` provider, so the stack needs no other provider plugin.
`create` draws 32 random bytes (hex) from the provider process's CSPRNG; nothing ever changes them
afterwards (`diff` reports no change, `read` returns the stored state). A new secret is
`pulumi up --replace <urn of the WebhookSecret>`: the webhook and the function's copy follow it.
Pulumi serializes the provider into the state, so it holds nothing and imports inside its methods.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic

from components.dynamic import DynamicResource

SECRET_BYTES = 32


class WebhookSecretProvider(pulumi.dynamic.ResourceProvider):
    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        import secrets

        size = int(props.get("byte_length") or SECRET_BYTES)
        return pulumi.dynamic.CreateResult(
            f"webhook-secret-{secrets.token_hex(6)}", {"byte_length": size, "value": secrets.token_hex(size)}
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        replaces = ["byte_length"] if int(olds.get("byte_length") or 0) != int(news.get("byte_length") or 0) else []
        return pulumi.dynamic.DiffResult(changes=bool(replaces), replaces=replaces, stables=["value"])

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        return pulumi.dynamic.ReadResult(id_, dict(props))


class WebhookSecret(DynamicResource):
    """`.value`: the secret (hex), an `Output.secret`."""

    value: pulumi.Output[str]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            WebhookSecretProvider(),
            name,
            {"byte_length": SECRET_BYTES, "value": None},
            pulumi.ResourceOptions.merge(pulumi.ResourceOptions(additional_secret_outputs=["value"]), opts),
        )
        self.value = pulumi.Output.secret(self.value)
