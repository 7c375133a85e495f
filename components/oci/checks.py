"""Checks an OCI pool must pass before any resource is declared, with messages that say what to change.

Every limit is components/config's (limits.py, rules.py, pools.py): `check_pool` applies the validator's
own rules again to the pool it is given. What only the OCI component can judge is the size of the
instance metadata (user data + hand-off keys), which OCI caps at 32,000 bytes and refuses only at launch
— too late for a preview.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from components.config import limits, rules
from components.config.limits import OCI_METADATA_MAX_BYTES
from components.config.model import OciPool
from components.config.pools import oci_memory_problem, oci_shape_problem

#: Room kept in the metadata for the hand-off value while it is still unknown (preview): a registration
#: token is ~30 bytes; an encoded JIT config (ephemeral runners) is a few KB of base64 JSON.
TOKEN_RESERVE_BYTES = {False: 256, True: 8192}


class OciPoolError(ValueError):
    """An OCI pool cannot be deployed as configured."""


def check_pool(pool: OciPool) -> None:
    """Raise OciPoolError when the pool breaks a rule of components/config (the same functions the
    validator calls: a pool built without the validator, e.g. in code, is held to the same rules)."""
    problems = {
        "shape": oci_shape_problem(pool.shape),
        "ocpus": rules.between(1, limits.OCI_A1_MAX_OCPUS, "OCPUs")(pool.ocpus),
        "memoryGb": oci_memory_problem(pool.ocpus, pool.memory_gb),
        "diskGb": rules.between(limits.OCI_MIN_BOOT_VOLUME_GB, limits.OCI_MAX_BOOT_VOLUME_GB, "GB")(pool.disk_gb),
        "availabilityDomains": None if pool.availability_domains else "must list at least one domain number",
    }
    for key, problem in problems.items():
        if problem:
            raise OciPoolError(f"pool '{pool.name}': {key} {problem}")


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
