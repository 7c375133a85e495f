"""Checks an OCI pool must pass before any resource is declared, with messages that say what to change.

The stack-wide checks (free-tier totals, ssh CIDR) live in components/config; these are the ones only the
OCI component knows how to judge: the shape, its memory-per-OCPU ratio, the boot volume and the size of
the instance metadata (user data + hand-off keys), which OCI caps at 32,000 bytes and refuses only at
launch — too late for a preview.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from components.config.limits import (
    OCI_A1_GB_PER_OCPU,
    OCI_A1_MAX_OCPUS,
    OCI_ARM_SHAPES,
    OCI_METADATA_MAX_BYTES,
    OCI_MIN_BOOT_VOLUME_GB,
)
from components.config.model import OciPool

#: Room kept in the metadata for the hand-off value while it is still unknown (preview): a registration
#: token is ~30 bytes; an encoded JIT config (ephemeral runners) is a few KB of base64 JSON.
TOKEN_RESERVE_BYTES = {False: 256, True: 8192}


class OciPoolError(ValueError):
    """An OCI pool cannot be deployed as configured."""


def check_pool(pool: OciPool) -> None:
    """Raise OciPoolError when the pool is not an A1 shape within OCI's limits."""
    where = f"pool '{pool.name}'"
    if pool.shape not in OCI_ARM_SHAPES:
        raise OciPoolError(
            f"{where}: shape {pool.shape} is not supported; use one of {', '.join(sorted(OCI_ARM_SHAPES))}"
            " (Ampere A1: arm64, and the only shape in OCI's Always Free allowance)"
        )
    if not 1 <= pool.ocpus <= OCI_A1_MAX_OCPUS:
        raise OciPoolError(f"{where}: ocpus must be between 1 and {OCI_A1_MAX_OCPUS}, got {pool.ocpus}")
    low, high = OCI_A1_GB_PER_OCPU
    if not low * pool.ocpus <= pool.memory_gb <= high * pool.ocpus:
        raise OciPoolError(
            f"{where}: memoryGb {pool.memory_gb} is outside {pool.shape}'s {low}-{high} GB per OCPU; with "
            f"{pool.ocpus} OCPU use {low * pool.ocpus}-{high * pool.ocpus} GB"
        )
    if pool.disk_gb < OCI_MIN_BOOT_VOLUME_GB:
        raise OciPoolError(f"{where}: diskGb must be at least {OCI_MIN_BOOT_VOLUME_GB} (OCI boot volume minimum)")
    if not pool.availability_domains:
        raise OciPoolError(f"{where}: availabilityDomains must list at least one domain number")


def metadata_bytes(metadata: Mapping[str, str]) -> int:
    """Size of the metadata as sent to the Compute API (a JSON object, UTF-8)."""
    return len(json.dumps(dict(metadata), separators=(",", ":")).encode())


def check_metadata_size(runner_name: str, metadata: Mapping[str, str], reserve: int = 0) -> int:
    """Raise OciPoolError when metadata (+ `reserve` bytes still unknown) exceeds OCI's cap; return the size."""
    size = metadata_bytes(metadata) + reserve
    if size > OCI_METADATA_MAX_BYTES:
        raise OciPoolError(
            f"runner {runner_name}: instance metadata would be {size} bytes (user data, ssh key and the "
            f"token hand-off{f' with {reserve} bytes kept for the token' if reserve else ''}); OCI accepts "
            f"at most {OCI_METADATA_MAX_BYTES}. Remove extra labels or shorten the ssh key list."
        )
    return size
