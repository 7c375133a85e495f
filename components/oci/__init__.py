"""Oracle Cloud Ampere A1 runner pools.

`deploy(ctx, pools)` is what components.fleet calls when the stack has `cloud: oci` pools: one shared
StackNetwork for the stack (`ctx.shared`), one RunnerPool per pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pulumi

from components.config.model import OciPool, Pool
from components.oci.network import StackNetwork, StackNetworkArgs
from components.oci.pool import RunnerPool, RunnerPoolArgs

if TYPE_CHECKING:
    from components.fleet import DeployContext

__all__ = ["RunnerPool", "RunnerPoolArgs", "StackNetwork", "StackNetworkArgs", "deploy"]


def deploy(ctx: DeployContext, pools: Sequence[Pool]) -> list[RunnerPool]:
    config = ctx.config
    under_fleet = pulumi.ResourceOptions(parent=ctx.parent)
    network: StackNetwork = ctx.shared(
        "oci-network", lambda: StackNetwork("oci-network", StackNetworkArgs(config=config), under_fleet)
    )
    built = []
    for pool in pools:
        if not isinstance(pool, OciPool):
            raise TypeError(f"components.oci cannot deploy a {pool.cloud} pool ({pool.name})")
        built.append(
            RunnerPool(
                f"pool-{pool.name}",
                RunnerPoolArgs(
                    config=config,
                    pool=pool,
                    github_token=ctx.github_token,
                    network=network,
                    registration_depends_on=list(ctx.registration_depends_on),
                ),
                under_fleet,
            )
        )
    return built
