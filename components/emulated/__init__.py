"""Emulated ARM64 runner pools (`cloud: emulated`): x86_64 EC2 hosts, arm64 jobs under QEMU."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pulumi

from components.aws import pool_args
from components.aws.pool import RunnerPoolArgs
from components.config.model import EmulatedPool, Pool
from components.emulated.pool import EMULATED, RunnerPool

if TYPE_CHECKING:
    from components.fleet import DeployContext

__all__ = ["EMULATED", "RunnerPool", "RunnerPoolArgs", "deploy"]


def deploy(ctx: DeployContext, pools: Sequence[Pool]) -> list[RunnerPool]:
    """The fleet's entry point for `cloud: emulated` pools (same shared network as `aws` pools)."""
    built: list[RunnerPool] = []
    for pool in pools:
        if not isinstance(pool, EmulatedPool):
            raise TypeError(f"components.emulated.deploy got a {pool.cloud} pool ({pool.name})")
        built.append(RunnerPool(f"pool-{pool.name}", pool_args(ctx, pool), pulumi.ResourceOptions(parent=ctx.parent)))
    return built
