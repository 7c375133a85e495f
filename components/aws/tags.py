"""Tags every AWS resource of the project carries (see docs/ARCHITECTURE.md, Naming)."""

from __future__ import annotations

MANAGED_BY = "arm64-runners"


def base_tags(stack: str, pool: str | None = None) -> dict[str, str]:
    """`arm64-runners:stack`, `arm64-runners:pool` (pool resources only) and `managed-by`."""
    tags = {"arm64-runners:stack": stack, "managed-by": MANAGED_BY}
    if pool is not None:
        tags["arm64-runners:pool"] = pool
    return tags
