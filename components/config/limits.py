"""Limits and facts the validation and the policy pack rely on, each with its source, in one place."""

from __future__ import annotations

import re

from components.config.model import FreeTierLimits

#: OCI Always Free Ampere A1 allowance: 3,000 OCPU-hours and 18,000 GB-hours a month (= 4 OCPU and
#: 24 GB running all month) and 200 GB of block storage (boot volumes count). Source: Oracle Cloud
#: "Always Free Resources" documentation, as documented for years up to 2026-11. A cut to 2 OCPU / 12 GB
#: from 2026-06-15 has been reported by third parties but is not confirmed by Oracle; a stack can
#: override these with `arm64-runners:oci.freeTierLimits` if its tenancy shows lower limits.
OCI_ALWAYS_FREE_A1 = FreeTierLimits(ocpus=4, memory_gb=24, block_storage_gb=200)

#: Oracle reclaims (stops) Always Free instances idle for 7 days: 95th-percentile CPU, network and
#: memory utilisation all under 20 %. Source: Oracle Cloud "Always Free Resources", idle compute.
OCI_IDLE_RECLAIM_DAYS = 7

#: OCI Ampere shapes this project deploys (the Always Free allowance covers A1 only).
OCI_ARM_SHAPES = frozenset({"VM.Standard.A1.Flex"})
#: Memory per OCPU allowed for VM.Standard.A1.Flex (OCI compute shapes documentation).
OCI_A1_GB_PER_OCPU = (1, 64)
OCI_A1_MAX_OCPUS = 80
#: OCI boot volumes: 50 GB minimum (OCI block volume documentation).
OCI_MIN_BOOT_VOLUME_GB = 50
#: OCI instance metadata (user_data included) is capped at 32,000 bytes.
OCI_METADATA_MAX_BYTES = 32_000

#: EC2 user data: 16 KiB before base64 encoding (EC2 user guide, "instance user data").
EC2_USER_DATA_MAX_BYTES = 16 * 1024

#: Docker image builds need room: the seed project measured 15-25 GB per multi-arch build.
MIN_DISK_GB = 30

_EC2_TYPE = re.compile(r"^(?P<family>(?P<cls>[a-z]+)(?P<gen>\d+)(?P<attr>[a-z-]*))\.(?P<size>[0-9a-z]+)$")


def ec2_family(instance_type: str) -> str | None:
    """`m7g.large` -> `m7g`; None when the string is not an EC2 instance type."""
    match = _EC2_TYPE.match(instance_type)
    return match.group("family") if match else None


def is_graviton(instance_type: str) -> bool:
    """Graviton (arm64) EC2 types: `a1`, and every family whose attribute letters include `g` after the
    generation digit (t4g, m6g/m7g/m8g, c6gn, r8gd, x2gd, im4gn, is4gen, i4g, g5g, hpc7g, ...).
    AWS names processor options with attribute letters: g = Graviton, a = AMD, i = Intel."""
    match = _EC2_TYPE.match(instance_type)
    if not match:
        return False
    return match.group("family") == "a1" or "g" in match.group("attr")


def is_x86_64(instance_type: str) -> bool:
    """x86_64 EC2 types (for emulated pools): any valid type that is neither Graviton nor a Mac host."""
    match = _EC2_TYPE.match(instance_type)
    if not match:
        return False
    return not is_graviton(instance_type) and match.group("cls") != "mac"


#: GitHub runner labels: at most 256 characters, letters, digits and `-_.`; no commas (config.sh splits
#: on commas) and no whitespace. Source: GitHub docs, "Using labels with self-hosted runners".
LABEL_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,256}$")
#: Runner names go to config.sh --name and GitHub's runner list: at most 64 characters here, so names
#: stay readable in GitHub's UI and fit EC2's Name tag and OCI's display name.
RUNNER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
