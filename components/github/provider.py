"""The dynamic provider behind RunnerRegistration.

Pulumi serializes this object with dill into the state and runs it in a separate provider process,
so: it holds no credential and no client (both are built per call from the resource's properties,
where the GitHub token is a secret input), and the modules it needs are imported inside methods.

Lifecycle:
- create  mints a registration token (or a JIT config when ephemeral); the only GitHub write.
- diff    replaces on what identifies the runner or its instance; anything else (including a rotated
          credential) is no change, so previews stay quiet.
- read    (refresh) returns the stored state: refreshing must never mint a new token.
- delete  removes the runner by name; "already gone" is success; a busy runner is waited for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi.dynamic

#: Inputs whose change means another runner (or another instance for it): replace.
REPLACE_ON = (
    "api_url",
    "scope_path",
    "runner_name",
    "labels",
    "ephemeral",
    "runner_group",
    "replacement_fingerprint",
)
#: Overrides the stored credential at delete time (e.g. when the stack's token was rotated or an
#: App installation token has expired since create).
DELETE_TOKEN_ENV = "ARM64_RUNNERS_GITHUB_TOKEN"


class RunnerRegistrationProvider(pulumi.dynamic.ResourceProvider):
    def __init__(
        self,
        sleep: Callable[[float], None] | None = None,
        now: Callable[[], float] | None = None,
        poll_seconds: float = 15.0,
    ) -> None:
        super().__init__()
        self._sleep = sleep
        self._now = now
        self._poll_seconds = poll_seconds

    def _client(self, props: dict[str, Any], token: str) -> Any:
        import time

        from components.github.rest import GithubClient

        return GithubClient(
            api_url=str(props["api_url"]),
            token=token,
            scope_path=str(props["scope_path"]),
            sleep=self._sleep or time.sleep,
            now=self._now or time.time,
        )

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        import uuid

        from components.github import scope

        client = self._client(props, str(props["github_token"]))
        scope_path = str(props["scope_path"])
        name = str(props["runner_name"])
        outs = {k: v for k, v in props.items() if k != "__provider"}
        if props.get("ephemeral"):
            group_id = scope.resolve_runner_group_id(client, scope_path, props.get("runner_group") or None)
            jit = self._generate_jit(client, props, group_id)
            # A JIT config has no stated expiry; GitHub drops an unused one with its runner (1 day).
            outs.update(token=jit.encoded_jit_config, expires_at="", runner_id=jit.runner_id)
        else:
            minted = scope.mint_registration_token(client, scope_path)
            outs.update(token=minted.token, expires_at=minted.expires_at, runner_id=0)
        return pulumi.dynamic.CreateResult(f"{name}-{uuid.uuid4().hex[:12]}", outs)

    def _generate_jit(self, client: Any, props: dict[str, Any], group_id: int) -> Any:
        """A JIT config; a leftover runner holding the name (e.g. from a create whose answer was
        lost) is removed first, since the name belongs to this stack's runner slot."""
        from components.github import scope
        from components.github.rest import UnprocessableError

        scope_path, name = str(props["scope_path"]), str(props["runner_name"])
        labels = [str(x) for x in props["labels"]]
        try:
            return scope.generate_jit_config(client, scope_path, name, labels, group_id)
        except UnprocessableError as conflict:
            if conflict.status != 409:
                raise
        scope.delete_runner(
            client,
            scope_path,
            name,
            busy_timeout_seconds=float(props.get("busy_timeout_seconds") or 600),
            poll_seconds=self._poll_seconds,
        )
        return scope.generate_jit_config(client, scope_path, name, labels, group_id)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        replaces = [key for key in REPLACE_ON if _normal(olds.get(key)) != _normal(news.get(key))]
        # Delete first: the old runner must be gone before a new one with the same name registers,
        # or the old delete-by-name would remove the new runner (and JIT refuses duplicate names).
        return pulumi.dynamic.DiffResult(
            changes=bool(replaces),
            replaces=replaces,
            stables=["token", "expires_at", "runner_id"] if not replaces else [],
            delete_before_replace=True,
        )

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        return pulumi.dynamic.ReadResult(id_, dict(props))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        import os

        from components.github import scope

        token = os.environ.get(DELETE_TOKEN_ENV) or str(props["github_token"])
        scope.delete_runner(
            self._client(props, token),
            str(props["scope_path"]),
            str(props["runner_name"]),
            busy_timeout_seconds=float(props.get("busy_timeout_seconds") or 600),
            poll_seconds=self._poll_seconds,
        )


def _normal(value: Any) -> Any:
    """Compare lists as lists and treat None / "" (no runner group) alike."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return value
