"""Stack configs for the OCI tests (stack-file shape, as `run_stack` takes them)."""

from __future__ import annotations

import copy
from typing import Any

COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaa4n3qbfy5wr7kvtlhqkz4w2wyrxn6lyjsbbxtnhdgsq3pgcmbfkqa"
SUBNET = "ocid1.subnet.oc1.iad.aaaaaaaaexistingsubnetexistingsubnetexistingsubnet01"

_BASE: dict[str, Any] = {
    "oci:region": "us-ashburn-1",
    "github:owner": "tzervas",
    "github:token": {"secure": "v1:abc"},
    "arm64-runners:github": {"repository": "embeddenator"},
    "arm64-runners:runner": {"version": "2.331.0", "idleAction": "none"},
    "arm64-runners:pools": [],
    "arm64-runners:oci": {"compartmentId": COMPARTMENT},
}


def pool(**overrides: Any) -> dict[str, Any]:
    spec = {"name": "ampere", "cloud": "oci", "count": 1, "ocpus": 2, "memoryGb": 12, "diskGb": 50}
    spec.update(overrides)
    return spec


def stack(*pools: dict[str, Any], oci: dict[str, Any] | None = None, runner: dict[str, Any] | None = None) -> dict:
    config = copy.deepcopy(_BASE)
    config["arm64-runners:pools"] = list(pools) or [pool()]
    config["arm64-runners:oci"].update(oci or {})
    config["arm64-runners:runner"].update(runner or {})
    return config
