"""AWS Graviton runner pools (`cloud: aws`), and the EC2 machinery `emulated` pools build on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pulumi

from components.aws.network import StackNetwork, StackNetworkArgs
from components.aws.pool import Ec2RunnerPool, HostProfile, RunnerPool, RunnerPoolArgs
from components.aws.wake import WakeFunction, deploy_wake
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
    "WakeFunction",
    "deploy",
    "deploy_ec2_pools",
    "deploy_wake",
    "pool_args",
    "shared_network",
]

#: A pool component class taking (name, args, opts): RunnerPool here, emulated's RunnerPool there.
PoolFactory = Callable[[str, RunnerPoolArgs, pulumi.ResourceOptions], Ec2RunnerPool]

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


def deploy_ec2_pools(
    ctx: DeployContext, pools: Sequence[Pool], kind: type[AwsPool | EmulatedPool], pool_class: PoolFactory
) -> list[Ec2RunnerPool]:
    """One `pool_class` component per pool, all on the stack's shared network (aws and emulated)."""
    built: list[Ec2RunnerPool] = []
    for pool in pools:
        if not isinstance(pool, kind):
            raise TypeError(f"a {kind.__name__} deployer got a {pool.cloud} pool ({pool.name})")
        built.append(pool_class(f"pool-{pool.name}", pool_args(ctx, pool), pulumi.ResourceOptions(parent=ctx.parent)))
    deploy_wake(ctx)  # once per stack, for the aws and emulated pools together
    return built


def deploy(ctx: DeployContext, pools: Sequence[Pool]) -> list[Ec2RunnerPool]:
    """The fleet's entry point for `cloud: aws` pools."""
    return deploy_ec2_pools(ctx, pools, AwsPool, RunnerPool)
