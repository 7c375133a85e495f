"""Emulated ARM64 runner pools (`cloud: emulated`): x86_64 EC2 hosts, arm64 jobs under QEMU."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from components.aws import deploy_ec2_pools
from components.aws.pool import Ec2RunnerPool, RunnerPoolArgs
from components.config.model import EmulatedPool, Pool
from components.emulated.pool import EMULATED, RunnerPool

if TYPE_CHECKING:
    from components.fleet import DeployContext

__all__ = ["EMULATED", "RunnerPool", "RunnerPoolArgs", "deploy"]


def deploy(ctx: DeployContext, pools: Sequence[Pool]) -> list[Ec2RunnerPool]:
    """The fleet's entry point for `cloud: emulated` pools (same shared network as `aws` pools)."""
    return deploy_ec2_pools(ctx, pools, EmulatedPool, RunnerPool)
