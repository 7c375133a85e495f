"""Realistic Oracle Cloud answers for the mock engine: invokes and provider-computed resource outputs.

Shapes follow what the OCI provider returns (wire names in camelCase, as the engine sees them):
- availability domains carry the tenancy-specific prefix (`Uocm:US-ASHBURN-AD-1`), ordered AD-1..AD-n;
- `getImages` lists platform images newest first, filtered by operating system, version and shape the way
  the Compute API does: with `shape=VM.Standard.A1.Flex` only aarch64 builds come back, without it the
  newest x86_64 build comes first — so a lookup that forgets the shape filter picks the wrong image;
- a `ComputeCapacityReport` answers one `shapeAvailabilities` entry per requested shape with an
  `availabilityStatus` of AVAILABLE, OUT_OF_HOST_CAPACITY or HARDWARE_NOT_SUPPORTED.

Tests choose which domains have A1 capacity with `capacity({...})` (a context manager), and how many
domains the region has with `availability_domains(n)`.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

REGION_KEY = "US-ASHBURN"
AD_PREFIX = "Uocm"
TENANCY_OCID = "ocid1.tenancy.oc1..aaaaaaaamockmockmockmockmockmockmockmockmockmockmockmock"

#: Platform images as the Compute API lists them for a compartment in us-ashburn-1 (newest first).
IMAGES: tuple[dict[str, Any], ...] = (
    {
        "displayName": "Canonical-Ubuntu-24.04-2025.10.31-0",
        "operatingSystem": "Canonical Ubuntu",
        "operatingSystemVersion": "24.04",
        "timeCreated": "2025-11-04 18:02:51.713 +0000 UTC",
        "arch": "x86_64",
    },
    {
        "displayName": "Canonical-Ubuntu-24.04-aarch64-2025.10.31-0",
        "operatingSystem": "Canonical Ubuntu",
        "operatingSystemVersion": "24.04",
        "timeCreated": "2025-11-04 17:40:12.331 +0000 UTC",
        "arch": "aarch64",
    },
    {
        "displayName": "Canonical-Ubuntu-24.04-Minimal-aarch64-2025.10.31-0",
        "operatingSystem": "Canonical Ubuntu",
        "operatingSystemVersion": "24.04 Minimal",
        "timeCreated": "2025-11-04 17:31:02.114 +0000 UTC",
        "arch": "aarch64",
    },
    {
        "displayName": "Canonical-Ubuntu-24.04-aarch64-2025.09.30-0",
        "operatingSystem": "Canonical Ubuntu",
        "operatingSystemVersion": "24.04",
        "timeCreated": "2025-10-07 09:12:40.005 +0000 UTC",
        "arch": "aarch64",
    },
    {
        "displayName": "Canonical-Ubuntu-24.04-2025.09.30-0",
        "operatingSystem": "Canonical Ubuntu",
        "operatingSystemVersion": "24.04",
        "timeCreated": "2025-10-07 08:55:19.870 +0000 UTC",
        "arch": "x86_64",
    },
    {
        "displayName": "Canonical-Ubuntu-22.04-aarch64-2025.10.31-0",
        "operatingSystem": "Canonical Ubuntu",
        "operatingSystemVersion": "22.04",
        "timeCreated": "2025-11-03 12:20:00.000 +0000 UTC",
        "arch": "aarch64",
    },
    {
        "displayName": "Oracle-Linux-9.6-aarch64-2025.10.23-0",
        "operatingSystem": "Oracle Linux",
        "operatingSystemVersion": "9",
        "timeCreated": "2025-10-28 10:00:00.000 +0000 UTC",
        "arch": "aarch64",
    },
)

#: Shapes whose hosts are Ampere (aarch64); every other shape in this catalogue is x86_64.
ARM_SHAPES = frozenset({"VM.Standard.A1.Flex", "VM.Standard.A2.Flex", "BM.Standard.A1.160"})

_state: dict[str, Any] = {"domains": 3, "capacity": {}}


def image_ocid(display_name: str) -> str:
    """A stable, OCID-shaped id for an image of the catalogue."""
    digest = hashlib.sha256(display_name.encode()).hexdigest()[:52]
    return f"ocid1.image.oc1.iad.aaaaaaaa{digest}"


def domain_names(count: int | None = None) -> list[str]:
    """`Uocm:US-ASHBURN-AD-1` ... in the order the Identity API lists them."""
    total = _state["domains"] if count is None else count
    return [f"{AD_PREFIX}:{REGION_KEY}-AD-{n}" for n in range(1, total + 1)]


@contextmanager
def availability_domains(count: int) -> Iterator[None]:
    """Pretend the region has `count` availability domains (most OCI regions have one)."""
    saved = _state["domains"]
    _state["domains"] = count
    try:
        yield
    finally:
        _state["domains"] = saved


@contextmanager
def capacity(statuses: Mapping[str, str]) -> Iterator[None]:
    """Override A1 capacity per domain: keys are an AD name or its 1-based number, values a status
    (AVAILABLE, OUT_OF_HOST_CAPACITY, HARDWARE_NOT_SUPPORTED). Domains not named stay AVAILABLE."""
    saved = dict(_state["capacity"])
    names = domain_names(max(_state["domains"], 3))
    resolved: dict[str, str] = {}
    for key, status in statuses.items():
        name = names[int(key) - 1] if str(key).isdigit() else str(key)
        resolved[name] = status
    _state["capacity"] = resolved
    try:
        yield
    finally:
        _state["capacity"] = saved


def _get_availability_domains(args: Mapping[str, Any]) -> dict[str, Any]:
    compartment = str(args.get("compartmentId", TENANCY_OCID))
    domains = [
        {
            "compartmentId": compartment,
            "id": f"ocid1.availabilitydomain.oc1..aaaaaaaa{hashlib.sha256(name.encode()).hexdigest()[:40]}",
            "name": name,
        }
        for name in domain_names()
    ]
    return {"availabilityDomains": domains, "compartmentId": compartment, "id": "AvailabilityDomainsDataSource"}


def _get_images(args: Mapping[str, Any]) -> dict[str, Any]:
    compartment = str(args.get("compartmentId", TENANCY_OCID))
    shape = args.get("shape")
    matches = [
        image
        for image in IMAGES
        if args.get("operatingSystem") in (None, image["operatingSystem"])
        and args.get("operatingSystemVersion") in (None, image["operatingSystemVersion"])
        and (shape is None or (image["arch"] == "aarch64") == (shape in ARM_SHAPES))
    ]
    if args.get("sortBy", "TIMECREATED") == "TIMECREATED":
        matches.sort(key=lambda image: image["timeCreated"], reverse=args.get("sortOrder", "DESC") == "DESC")
    else:
        matches.sort(key=lambda image: image["displayName"], reverse=args.get("sortOrder", "DESC") == "DESC")
    images = [
        {
            "id": image_ocid(image["displayName"]),
            "compartmentId": "",
            "displayName": image["displayName"],
            "operatingSystem": image["operatingSystem"],
            "operatingSystemVersion": image["operatingSystemVersion"],
            "timeCreated": image["timeCreated"],
            "state": "AVAILABLE",
            "launchMode": "PARAVIRTUALIZED",
            "listingType": "NONE",
            "sizeInMbs": "47694",
            "createImageAllowed": True,
            "freeformTags": {},
            "definedTags": {},
        }
        for image in matches
    ]
    return {
        "compartmentId": compartment,
        "id": "ImagesDataSource",
        "images": images,
        "operatingSystem": args.get("operatingSystem"),
        "operatingSystemVersion": args.get("operatingSystemVersion"),
        "shape": shape,
    }


ANSWERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "oci:Identity/getAvailabilityDomains:getAvailabilityDomains": _get_availability_domains,
    "oci:Core/getImages:getImages": _get_images,
}


def _capacity_report(inputs: Mapping[str, Any]) -> dict[str, Any]:
    domain = str(inputs.get("availabilityDomain", ""))
    status = _state["capacity"].get(domain, "AVAILABLE")
    answered = []
    for requested in inputs.get("shapeAvailabilities", []):
        shape = requested.get("instanceShape", "")
        shape_status = status if shape in ARM_SHAPES else "HARDWARE_NOT_SUPPORTED"
        answered.append(
            {
                **requested,
                "availabilityStatus": shape_status,
                "availableCount": "4" if shape_status == "AVAILABLE" else "0",
            }
        )
    # The provider uses the compartment OCID as the report's id (terraform-provider-oci's resource).
    return {
        **inputs,
        "__id": str(inputs.get("compartmentId", TENANCY_OCID)),
        "shapeAvailabilities": answered,
        "timeCreated": "2026-11-27T03:20:00.000Z",
    }


def _instance(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    digest = hashlib.sha256(name.encode()).digest()
    private_ip = ipaddress.IPv4Address("10.42.0.0") + 2 + digest[0]
    return {
        **inputs,
        "__id": f"ocid1.instance.oc1.iad.anuwcljt{digest.hex()[:52]}",
        "privateIp": str(private_ip),
        "publicIp": f"129.213.{digest[1]}.{digest[2]}",
        "state": "RUNNING",
        "bootVolumeId": f"ocid1.bootvolume.oc1.iad.abuwcljr{digest.hex()[:40]}",
        "region": "iad",
        "timeCreated": "2026-11-27 03:21:07.412 +0000 UTC",
    }


def _vcn(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return {
        **inputs,
        "__id": f"ocid1.vcn.oc1.iad.amaaaaaa{digest[:52]}",
        "defaultSecurityListId": f"ocid1.securitylist.oc1.iad.aaaaaaaa{digest[8:60]}",
        "defaultRouteTableId": f"ocid1.routetable.oc1.iad.aaaaaaaa{digest[4:56]}",
        "state": "AVAILABLE",
    }


def resource_outputs(type_: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    """Outputs the OCI provider computes for `type_`, merged over the inputs; None = inputs only.

    `__id` becomes the resource id (the mock engine's convention)."""
    if type_ == "oci:Core/vcn:Vcn":
        return _vcn(name, inputs)
    if type_ == "oci:Core/computeCapacityReport:ComputeCapacityReport":
        return _capacity_report(inputs)
    if type_ == "oci:Core/instance:Instance":
        return _instance(name, inputs)
    return None
