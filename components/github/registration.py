"""RunnerRegistration: one GitHub runner registration per runner instance.

Why not `pulumi_github.get_actions_registration_token`: that invoke mints a new token on every
preview and up, and does not mark it secret, so every preview would show a user-data change and the
token would sit in plaintext in the state. This resource mints once at create, keeps the token as a
secret output, and is replaced only together with the instance it serves (components/runner.py). A
refresh asks GitHub whether its runner still exists and drops the registration when nothing can bring
the runner back (components/github/provider.py), so `pulumi up --refresh` heals a slot. A deliberate
re-mint is:

    pulumi up --replace '<urn of the RunnerRegistration>'

`pulumi destroy` removes the runner from GitHub by name. Refresh and destroy use the credential stored
at create; when it no longer works (rotated, or an App installation token past its hour), export
ARM64_RUNNERS_GITHUB_TOKEN with a valid one first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi.dynamic

from components.config.model import StackConfig
from components.dynamic import DynamicResource
from components.github.provider import RunnerRegistrationProvider


@dataclass
class RunnerRegistrationArgs:
    #: GithubTarget.api_url (https://api.github.com, or <baseUrl>/api/v3 for Enterprise Server).
    api_url: str
    #: GithubTarget.scope_path: /repos/{owner}/{repo} or /orgs/{org}.
    scope_path: str
    runner_name: str
    labels: Sequence[str]
    ephemeral: bool
    #: Org runner group name (None = default group). An Output (e.g. the group resource's name)
    #: makes the registration wait for the group.
    runner_group: pulumi.Input[str] | None
    #: Digest of what shapes the instance (components/runner.py): a change replaces both.
    replacement_fingerprint: pulumi.Input[str]
    #: The stack's GitHub credential; stored only as a secret.
    github_token: pulumi.Input[str] = field(repr=False)
    #: How long destroy waits for a runner that is running a job.
    busy_timeout_seconds: int = 600
    #: Whether the host powers itself off when idle (idleAction stop): then an offline runner is a
    #: stopped host that comes back; otherwise a runner offline for long is a lost host (refresh heals it).
    stops_when_idle: bool = False

    @classmethod
    def for_runner(
        cls,
        config: StackConfig,
        runner_name: str,
        labels: Sequence[str],
        fingerprint: pulumi.Input[str],
        github_token: pulumi.Input[str],
    ) -> RunnerRegistrationArgs:
        """The registration of one runner of the stack: where it registers comes from the stack."""
        return cls(
            api_url=config.github.api_url,
            scope_path=config.github.scope_path,
            runner_name=runner_name,
            labels=labels,
            ephemeral=config.runner.ephemeral,
            runner_group=config.github.runner_group,
            replacement_fingerprint=fingerprint,
            github_token=github_token,
            stops_when_idle=config.runner.idle_action == "stop",
        )


class RunnerRegistration(DynamicResource):
    """`.token` (secret): a registration token, or the encoded JIT config when ephemeral."""

    token: pulumi.Output[str]
    expires_at: pulumi.Output[str]
    runner_name: pulumi.Output[str]
    runner_id: pulumi.Output[int]

    def __init__(
        self,
        name: str,
        args: RunnerRegistrationArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        provider: RunnerRegistrationProvider | None = None,
    ) -> None:
        props = {
            "api_url": args.api_url,
            "scope_path": args.scope_path,
            "runner_name": args.runner_name,
            "labels": list(args.labels),
            "ephemeral": args.ephemeral,
            "runner_group": args.runner_group if args.runner_group is not None else "",
            "replacement_fingerprint": args.replacement_fingerprint,
            "github_token": pulumi.Output.secret(args.github_token),
            "busy_timeout_seconds": args.busy_timeout_seconds,
            "stops_when_idle": args.stops_when_idle,
            "token": None,
            "expires_at": None,
            "runner_id": None,
        }
        # Delete before replace: the old runner must leave GitHub before the new registration (same
        # runner name) exists, or the old delete-by-name would remove the new runner. Set here as
        # well as in the provider's diff so `pulumi up --replace` behaves the same.
        defaults = pulumi.ResourceOptions(
            additional_secret_outputs=["token", "github_token"], delete_before_replace=True
        )
        super().__init__(
            provider or RunnerRegistrationProvider(),
            name,
            props,
            pulumi.ResourceOptions.merge(defaults, opts),
        )
        # Secret on this side too, so every consumer (and mocks) sees a secret.
        self.token = pulumi.Output.secret(self.token)
