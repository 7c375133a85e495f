"""AWS Graviton runner pools (`cloud: aws`), and the EC2 machinery `emulated` pools build on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pulumi

from components.aws.network import StackNetwork, StackNetworkArgs
from components.aws.pool import Ec2RunnerPool, HostProfile, RunnerPool, RunnerPoolArgs
from components.config.model import AwsPool, EmulatedPool, Pool

if TYPE_CHECKING:
    from components.fleet import DeployContext

__all__ = [
    "Ec2RunnerPool",
    "HostProfile",
    "RunnerPool",
    "RunnerPoolArgs",
    "StackNetwork",
    "StackNetworkArgs",
    "deploy",
    "pool_args",
    "shared_network",
]

#: `DeployContext.shared` key of the network `aws` and `emulated` pools share.
NETWORK_KEY = "aws-network"


def shared_network(ctx: DeployContext) -> StackNetwork:
    """The stack's one network, built the first time an `aws` or `emulated` pool asks for it."""
    config = ctx.config
    return ctx.shared(
        NETWORK_KEY,
        lambda: StackNetwork(
            "network",
            StackNetworkArgs(stack=config.stack, settings=config.aws),
            pulumi.ResourceOptions(parent=ctx.parent),
        ),
    )


def pool_args(ctx: DeployContext, pool: AwsPool | EmulatedPool) -> RunnerPoolArgs:
    return RunnerPoolArgs(
        config=ctx.config,
        pool=pool,
        github_token=ctx.github_token,
        network=shared_network(ctx),
        registration_depends_on=list(ctx.registration_depends_on),
    )


def deploy(ctx: DeployContext, pools: Sequence[Pool]) -> list[RunnerPool]:
    """The fleet's entry point for `cloud: aws` pools."""
    built: list[RunnerPool] = []
    for pool in pools:
        if not isinstance(pool, AwsPool):
            raise TypeError(f"components.aws.deploy got a {pool.cloud} pool ({pool.name})")
        built.append(RunnerPool(f"pool-{pool.name}", pool_args(ctx, pool), pulumi.ResourceOptions(parent=ctx.parent)))
    return built
