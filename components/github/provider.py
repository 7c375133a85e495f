"""The dynamic provider behind RunnerRegistration.

Pulumi serializes this object with dill into the state and runs it in a separate provider process,
so: it holds no credential and no client (both are built per call from the resource's properties,
where the GitHub token is a secret input), and the modules it needs are imported inside methods.

Lifecycle:
- create  mints a registration token (or a JIT config when ephemeral); the only GitHub write besides delete.
- diff    replaces on what identifies the runner or its instance; anything else (including a rotated
          credential) is no change, so previews stay quiet.
- read    (refresh) asks GitHub whether the runner still exists (one list call per page of runners, never a
          write, never a mint) and reports the registration gone when nothing can bring the runner back:
          see `still_usable`. The next `pulumi up` then mints afresh and replaces the instance. When GitHub
          cannot be asked (network, 5xx, rate limit), the state is kept and a warning names the runner.
- delete  removes the runner by name; "already gone" is success; a busy runner is waited for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import pulumi
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
#: Overrides the stored credential for refresh and delete (the one stored at create may have been
#: rotated since, or be a GitHub App installation token that expired after its hour).
TOKEN_OVERRIDE_ENV = "ARM64_RUNNERS_GITHUB_TOKEN"


class RunnerRegistrationProvider(pulumi.dynamic.ResourceProvider):
    def __init__(
        self,
        sleep: Callable[[float], None] | None = None,
        now: Callable[[], float] | None = None,
        poll_seconds: float = 15.0,
        warn: Callable[[str], None] | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        super().__init__()
        self._sleep = sleep
        self._now = now
        self._poll_seconds = poll_seconds
        self._warn = warn
        self._timeout = timeout_seconds

    def _client(self, props: dict[str, Any], token: str) -> Any:
        import time

        from components.github.rest import GithubClient

        return GithubClient(
            api_url=str(props["api_url"]),
            token=token,
            scope_path=str(props["scope_path"]),
            sleep=self._sleep or time.sleep,
            now=self._now or time.time,
            timeout_seconds=self._timeout,
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
        from components.github import scope

        return scope.generate_jit_config_for_slot(
            client,
            str(props["scope_path"]),
            str(props["runner_name"]),
            [str(x) for x in props["labels"]],
            group_id,
            busy_timeout_seconds=float(props.get("busy_timeout_seconds") or 600),
            poll_seconds=self._poll_seconds,
        )

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
        import time

        from components.github import scope
        from components.github.rest import GithubApiError

        name = str(props.get("runner_name"))
        try:
            runner = scope.find_runner(self._client(props, _credential(props)), str(props["scope_path"]), name)
        except GithubApiError as err:
            (self._warn or pulumi.log.warn)(
                f"runner {name}: GitHub could not be asked whether it still exists ({err}); "
                "its registration is kept as it is until the next refresh"
            )
            return pulumi.dynamic.ReadResult(id_, dict(props))
        now = (self._now or time.time)()
        if still_usable(props, runner, now):
            return pulumi.dynamic.ReadResult(id_, with_offline_mark(props, runner, now))
        # Gone: the engine drops it from the state; the next update mints a new one and replaces the host.
        return pulumi.dynamic.ReadResult("", {})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        from components.github import scope

        scope.delete_runner(
            self._client(props, _credential(props)),
            str(props["scope_path"]),
            str(props["runner_name"]),
            busy_timeout_seconds=float(props.get("busy_timeout_seconds") or 600),
            poll_seconds=self._poll_seconds,
        )


def _credential(props: Mapping[str, Any]) -> str:
    import os

    return os.environ.get(TOKEN_OVERRIDE_ENV) or str(props["github_token"])


#: How long a runner of a host that never stops by itself may stay offline before a refresh counts its
#: host as lost (seen offline by two refreshes at least this far apart): longer than a runner update's
#: restart or a GitHub hiccup, shorter than a scheduled reconcile (6 h).
OFFLINE_GRACE_SECONDS = 2 * 3600.0


def still_usable(props: Mapping[str, Any], runner: Mapping[str, Any] | None, now: float) -> bool:
    """Whether a registration can still give its slot a runner, given what GitHub lists under its name.

    - GitHub lists the runner online: yes.
    - GitHub lists it offline: yes when the host stops when idle (idleAction stop: it comes back with
      its host); otherwise (idleAction none/terminate: the host should always be up, or is gone) only
      until two refreshes `OFFLINE_GRACE_SECONDS` apart have seen it offline — then the host is lost
      (terminated, reclaimed, broken) and the slot gets a new registration and a new host.
    - Ephemeral (JIT): GitHub listed the runner from the moment the config was generated; once it is gone
      the config has served its one job or expired (GitHub drops unused ones after a day): no.
    - A registration token: until it expires, a host may still be booting to use it: yes. After that,
      either no host ever registered with it (e.g. the instance was created hours later, after a
      capacity retry) or GitHub removed the runner (14 days offline): no.
    """
    if runner is not None:
        if not _offline_unexpectedly(props, runner):
            return True
        since = props.get("offline_since")
        return not isinstance(since, (int, float)) or now - since < OFFLINE_GRACE_SECONDS
    if props.get("ephemeral"):
        return False
    expires = _epoch(str(props.get("expires_at") or ""))
    return expires is not None and now < expires


def _offline_unexpectedly(props: Mapping[str, Any], runner: Mapping[str, Any]) -> bool:
    """A listed runner is offline, and its host is one that should not be (it does not stop when idle)."""
    return runner.get("status") == "offline" and not props.get("stops_when_idle")


def with_offline_mark(props: Mapping[str, Any], runner: Mapping[str, Any] | None, now: float) -> dict[str, Any]:
    """The state a kept registration refreshes to: when its runner was first seen offline, for hosts that
    should never be offline (a stopped idle host is offline by design: nothing is recorded for it)."""
    outs = dict(props)
    if runner is None or not _offline_unexpectedly(props, runner):
        outs.pop("offline_since", None)
    elif not isinstance(outs.get("offline_since"), (int, float)):
        outs["offline_since"] = now
    return outs


def _epoch(timestamp: str) -> float | None:
    """GitHub's `expires_at` (ISO 8601 / RFC 3339, `Z` or an offset, with or without fractions)."""
    if not timestamp:
        return None
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _normal(value: Any) -> Any:
    """Compare lists as lists and treat None / "" (no runner group) alike."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return value
