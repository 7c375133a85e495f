"""Freeform tags every OCI resource of this project carries (docs/ARCHITECTURE.md, Naming)."""

from __future__ import annotations

MANAGED_BY = "arm64-runners"


def stack_tags(stack: str) -> dict[str, str]:
    return {"arm64-runners:stack": stack, "managed-by": MANAGED_BY}


def pool_tags(stack: str, pool: str) -> dict[str, str]:
    return {"arm64-runners:stack": stack, "arm64-runners:pool": pool, "managed-by": MANAGED_BY}
