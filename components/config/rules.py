"""Every rule about a single value, written once: the validator, the renderer and the policy pack call these.

Each `*_problem` function returns what is wrong (a message naming the value) or None. Patterns come
from `limits.py` and are matched with `fullmatch`-equivalent `\\Z` anchors: `$` would accept a trailing
newline, which then breaks rendering (runner.env) or reaches a cloud API.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
from collections.abc import Callable, Iterable
from typing import Any, Literal
from urllib.parse import urlsplit

from components.config import catalog, limits

Check = Callable[[Any], str | None]
Arch = Literal["arm64", "x86_64"]


def closest(value: str, known: Iterable[str], *, cutoff: float = 0.75) -> str | None:
    """The known name a typo most likely meant, or None."""
    close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=cutoff)
    return close[0] if close else None


def _did_you_mean(value: str, known: Iterable[str]) -> str:
    match = closest(value, known)
    return f"; did you mean {match!r}?" if match else ""


# --- numbers -------------------------------------------------------------------------------------


def between(low: float, high: float, unit: str) -> Check:
    """`low <= value <= high` (finite); the message names the bound, the caller's hint its reason."""

    def check(value: float) -> str | None:
        if isinstance(value, float) and not math.isfinite(value):
            return f"must be a finite number between {low:g} and {high:g} {unit}, got {value}"
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        if value < low:
            return f"must be at least {low:g} {unit}, got {shown}"
        if value > high:
            return f"must be at most {high:g} {unit}, got {shown}"
        return None

    return check


def share(value: float) -> str | None:
    """A share of the month: 0 < value <= 1."""
    if math.isfinite(value) and 0 < value <= 1:
        return None
    return f"must be a share between 0 and 1 (e.g. 0.25), got {value}"


# --- names ---------------------------------------------------------------------------------------


def matches(pattern: re.Pattern[str], what: str) -> Check:
    def check(value: str) -> str | None:
        return None if pattern.match(value) else f"{value!r} is not {what}"

    return check


def label_problem(label: str) -> str | None:
    if limits.LABEL_PATTERN.match(label):
        return None
    return (
        f"label {label!r} would be refused by GitHub: use 1-256 letters, digits, '.', '_' or '-', "
        "starting with a letter or digit"
    )


def runner_name_problem(name: str) -> str | None:
    if limits.RUNNER_NAME_PATTERN.match(name):
        return None
    return f"runner name {name!r}: use letters, digits, '.', '_' or '-' (at most 64, starting with a letter or digit)"


pool_name_problem = matches(
    limits.POOL_NAME_PATTERN, "1-24 lowercase letters, digits or '-' (it becomes part of runner names)"
)
name_prefix_problem = matches(limits.NAME_PREFIX_PATTERN, "1-20 lowercase letters, digits or '-'")
github_owner_problem = matches(limits.GITHUB_OWNER_PATTERN, "a GitHub user or organization name")
runner_group_problem = matches(
    limits.RUNNER_GROUP_PATTERN, "a runner group name (1-80 letters, digits, spaces, '.', '_' or '-')"
)
ami_problem = matches(limits.AMI_PATTERN, "an AMI id (ami- and 8-17 hex digits)")
vpc_problem = matches(limits.VPC_PATTERN, "a VPC id (vpc- and 8-17 hex digits)")
subnet_problem = matches(limits.SUBNET_PATTERN, "a subnet id (subnet- and 8-17 hex digits)")
key_name_problem = matches(limits.EC2_KEY_NAME_PATTERN, "an EC2 key pair name (printable ASCII, at most 255)")
ssh_public_key_problem = matches(
    limits.SSH_PUBLIC_KEY_PATTERN, "one OpenSSH public key line (ssh-ed25519 AAAA… comment)"
)
esc_environment_problem = matches(limits.ESC_ENVIRONMENT_PATTERN, "a Pulumi ESC environment name (project/env)")


def github_repository_problem(name: str) -> str | None:
    if "/" in name:
        owner, _, repo = name.partition("/")
        return (
            f"{name!r} includes the owner: write repository: {repo or '<name>'} (the owner, {owner!r}, is github:owner)"
        )
    if limits.GITHUB_REPOSITORY_PATTERN.match(name):
        return None
    return f"{name!r} is not a GitHub repository name (1-100 letters, digits, '.', '_' or '-')"


def actions_variable_problem(name: str) -> str | None:
    if name == "":
        return None  # "" = publish no variable
    if not limits.ACTIONS_VARIABLE_PATTERN.match(name):
        return f"{name!r} is not a valid Actions variable name (letters, digits, '_'; not starting with a digit)"
    if name.upper().startswith("GITHUB_"):
        return "Actions variable names cannot start with GITHUB_"
    return None


# --- clouds --------------------------------------------------------------------------------------


def aws_region_problem(region: str) -> str | None:
    if region in catalog.AWS_REGIONS:
        return None
    return f"{region!r} is not an AWS region (as of {catalog.CATALOG_DATE}){_did_you_mean(region, catalog.AWS_REGIONS)}"


def oci_region_problem(region: str) -> str | None:
    if region in catalog.OCI_REGIONS:
        return None
    return (
        f"{region!r} is not an OCI region identifier (as of {catalog.CATALOG_DATE})"
        f"{_did_you_mean(region, catalog.OCI_REGIONS)}"
    )


def instance_type_problem(instance_type: str, arch: Arch) -> str | None:
    """The type exists (catalog) and has the architecture the pool needs."""
    known = catalog.GRAVITON_TYPES if arch == "arm64" else catalog.X86_64_TYPES
    if instance_type in known:
        return None
    if arch == "arm64" and (instance_type in catalog.X86_64_TYPES or limits.is_x86_64(instance_type)):
        return f"{instance_type!r} is not an ARM64 (Graviton) instance type"
    if arch == "x86_64" and (instance_type in catalog.GRAVITON_TYPES or limits.is_graviton(instance_type)):
        return f"{instance_type!r} is not an x86_64 instance type; emulated pools run on x86_64 hosts"
    if limits.ec2_family(instance_type) is None:
        hint = _did_you_mean(instance_type, known) if "." in instance_type else " (family.size, e.g. t4g.large)"
        return f"{instance_type!r} is not an EC2 instance type{hint}"
    what = "Graviton" if arch == "arm64" else "x86_64"
    return (
        f"{instance_type!r} is not a known {what} instance type (table of {catalog.CATALOG_DATE})"
        f"{_did_you_mean(instance_type, known)}"
    )


def ocid_problem(*kinds: str) -> Check:
    """Full OCID format for one of `kinds` (`compartment` also accepts the tenancy: the root compartment)."""

    def check(value: str) -> str | None:
        match = limits.OCID_PATTERN.match(value)
        wanted = " or ".join(kinds)
        if match is None:
            return f"{value!r} is not an OCI {wanted} OCID (ocid1.{kinds[0]}.oc1.<region>.<unique id>)"
        if match.group("kind") not in kinds:
            return f"{value!r} is a {match.group('kind')} OCID, not a {wanted} OCID"
        regional = match.group("kind") not in ("tenancy", "compartment")
        if regional != bool(match.group("region")):
            where = "a region" if regional else "no region"
            return f"{value!r} is not a {wanted} OCID: {match.group('kind')} OCIDs carry {where} after the realm"
        return None

    return check


# --- URLs and networks ---------------------------------------------------------------------------


def https_url_problem(url: str) -> str | None:
    """An https URL with a host and without user:password@ (it would travel into user-data and logs)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"{url!r} is not a URL"
    del port
    if parts.scheme != "https" or not parts.hostname:
        return f"{url!r} is not an https:// URL (credentials and runner tarballs must not travel in clear)"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return f"{url!r} carries user information (user:password@): it would be written to user-data and logs"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return f"{url!r} contains whitespace or control characters"
    if parts.query or parts.fragment:
        return f"{url!r} must not carry a query or fragment"
    return None


def network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The network a CIDR string denotes (host bits allowed), or None when it is not one."""
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False) if cidr.strip() == cidr else None
    except ValueError:
        return None


def cidr_problem(cidr: str) -> str | None:
    return None if network(cidr) is not None else f"{cidr!r} is not a CIDR block"


def open_ingress_problem(cidr: str) -> str | None:
    """An ingress source wider than MIN_SSH_PREFIX (compared as numbers: `0.0.0.0/1`, `0:0::/0` too)."""
    net = network(cidr)
    if net is None:
        return None
    minimum = limits.MIN_SSH_PREFIX[net.version]
    if net.prefixlen >= minimum:
        return None
    if net.prefixlen == 0:
        return f"{cidr} opens the whole internet"
    return f"{cidr} opens {net.num_addresses:,} addresses (wider than /{minimum}): a slice of the internet"


def ssh_cidr_problem(cidr: str) -> str | None:
    return cidr_problem(cidr) or open_ingress_problem(cidr)
