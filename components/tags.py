"""Tags (AWS) and freeform tags (OCI) every resource of the project carries.

The policy pack and the operator tools read them back: `arm64-runners:cloud` tells an emulated pool's
x86_64 host from a mistake, `arm64-runners:idle-action` tells whether an idle host powers off.
"""

from __future__ import annotations

from components.config.model import Pool, StackConfig

MANAGED_BY = "arm64-runners"
TAG_STACK = "arm64-runners:stack"
TAG_POOL = "arm64-runners:pool"
TAG_CLOUD = "arm64-runners:cloud"
TAG_IDLE_ACTION = "arm64-runners:idle-action"
TAG_MANAGED_BY = "managed-by"
#: On each runner's instance: its runner name, and where its token is handed over (the wake function
#: reads both to re-register a runner before starting it).
TAG_RUNNER = "arm64-runners:runner"
TAG_HANDOFF = "arm64-runners:handoff"


def stack_tags(stack: str) -> dict[str, str]:
    """Stack-wide resources (networks)."""
    return {TAG_STACK: stack, TAG_MANAGED_BY: MANAGED_BY}


def pool_tags(config: StackConfig, pool: Pool) -> dict[str, str]:
    """Resources of one pool: also the pool, its cloud and what an idle host does."""
    return {
        **stack_tags(config.stack),
        TAG_POOL: pool.name,
        TAG_CLOUD: pool.cloud,
        TAG_IDLE_ACTION: config.runner.idle_action,
    }
