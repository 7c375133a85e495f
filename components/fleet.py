"""The stack's runners: one component that owns every pool, whatever its cloud.

Creates:
- per pool, the cloud's `RunnerPool` component (through that cloud package's `deploy`), which owns the
  runners' registrations, token hand-offs and instances;
- for GitHub, what pulumi-github already does: the organization runner group (when `runnerGroup` is set)
  and the Actions variable that publishes the runs-on labels (components/github/resources.py).

A cloud's package is imported only if a pool of that cloud exists, so a single-cloud stack never loads
the other cloud's SDK.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi

from components.config.model import Pool, StackConfig
from components.github.resources import GithubResources

#: cloud -> package that implements `deploy(ctx, pools)`.
BACKENDS: dict[str, str] = {
    "aws": "components.aws",
    "emulated": "components.emulated",
    "oci": "components.oci",
}


class RunnerPoolLike(Protocol):
    runners: pulumi.Output[list[dict[str, Any]]]


@dataclass
class DeployContext:
    """What a cloud package needs from the stack to build its pools."""

    config: StackConfig
    github_token: pulumi.Output[str]
    parent: pulumi.Resource
    #: The stack's pulumi-github resources (provider, runner group, variable).
    github: GithubResources
    #: Resources every registration must wait for (the organization runner group).
    registration_depends_on: list[pulumi.Resource] = field(default_factory=list)
    #: Stack outputs a cloud package adds (e.g. the AWS wake function's `wakeUrl`), exported by the program.
    outputs: dict[str, Any] = field(default_factory=dict)
    _shared: dict[str, Any] = field(default_factory=dict)

    def shared(self, key: str, factory: Callable[[], Any]) -> Any:
        """Build a per-stack thing once (e.g. the network aws and emulated pools share)."""
        if key not in self._shared:
            self._shared[key] = factory()
        return self._shared[key]


@dataclass
class FleetArgs:
    config: StackConfig
    github_token: pulumi.Output[str]


class Fleet(pulumi.ComponentResource):
    runners: pulumi.Output[list[dict[str, Any]]]
    outputs: dict[str, Any]

    def __init__(self, name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("arm64-runners:index:Fleet", name, None, opts)
        config = args.config
        github = GithubResources(config, args.github_token, parent=self)
        ctx = DeployContext(
            config=config,
            github_token=args.github_token,
            parent=self,
            github=github,
            registration_depends_on=github.runner_group(),
        )
        pools: list[RunnerPoolLike] = []
        for cloud, cloud_pools in _by_cloud(config.pools).items():
            backend = importlib.import_module(BACKENDS[cloud])
            pools.extend(backend.deploy(ctx, cloud_pools))
        github.publish_labels(runs_on_labels(config))

        self.runners = pulumi.Output.all(*[p.runners for p in pools]).apply(
            lambda lists: [runner for runners in lists for runner in runners]
        )
        self.outputs = ctx.outputs
        self.register_outputs({"runners": self.runners, **self.outputs})


def _by_cloud(pools: Sequence[Pool]) -> dict[str, list[Pool]]:
    grouped: dict[str, list[Pool]] = {}
    for pool in pools:
        if pool.count > 0:
            grouped.setdefault(pool.cloud, []).append(pool)
    return grouped


def runs_on_labels(config: StackConfig) -> list[str]:
    """The labels every runner of the stack has in common: what a workflow's runs-on should ask for."""
    active = [p for p in config.pools if p.count > 0] or list(config.pools)
    common = list(config.runner_labels(active[0]))
    for pool in active[1:]:
        labels = config.runner_labels(pool)
        common = [label for label in common if label in labels]
    return common
