"""Readers for each section of the stack file, producing the typed model.

One function per section; each reads its keys through `Section` (so unknown keys, wrong types and
missing keys are reported with their path) and adds the cross-key checks that belong to it.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlparse

from components.config import limits
from components.config.model import (
    DEFAULT_EGRESS,
    DEFAULT_GITHUB_URL,
    AwsPool,
    AwsSettings,
    EgressRule,
    EmulatedPool,
    FreeTierLimits,
    GithubTarget,
    OciPool,
    OciSettings,
    Pool,
    RunnerSettings,
)
from components.config.reader import Problems, Section
from components.runner_releases import ARM64_SHA256

NS = "arm64-runners"
CLOUDS = ("aws", "oci", "emulated")
IDLE_ACTIONS = ("none", "stop", "terminate")
_POOL_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,23}$")
_GITHUB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def _check_label(label: str) -> str | None:
    if not limits.LABEL_PATTERN.match(label):
        return f"label {label!r} would be refused by GitHub: use 1-256 letters, digits, '.', '_' or '-'"
    return None


def _check_url(url: str) -> str | None:
    parsed = urlparse(url)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        return f"{url!r} is not an http(s) URL"
    return None


def read_github(problems: Problems, owner: Any, data: Any) -> GithubTarget:
    path = f"{NS}:github"
    section = Section(problems, path, data if data is not None else {})
    if data is None:
        problems.add(path, "is required but missing", "set repository: <repo> (or organization: true)")
    repository = section.get("repository", str, None, check=_check_github_name)
    organization = section.get("organization", bool, False)
    runner_group = section.get("runnerGroup", str, None)
    group_repos = section.get_list("groupRepositories", str, check=_check_github_name)
    base_url = section.get("baseUrl", str, DEFAULT_GITHUB_URL, check=_check_url)
    variable = section.get("runsOnVariable", str, "ARM64_RUNS_ON", check=_check_variable)
    section.done()
    if data is not None:
        if repository and organization:
            problems.add(
                f"{path}.organization",
                "repository and organization: true exclude each other",
                "repository-level runners: keep repository; organization-level runners: remove repository",
            )
        if not repository and not organization:
            problems.add(f"{path}.repository", "is required for repository-level runners", "or set organization: true")
        if not organization:
            for key in ("runnerGroup", "groupRepositories"):
                if section.has(key):
                    problems.add(
                        f"{path}.{key}",
                        "is an organization-only key but this stack registers repository runners",
                        "remove it, or set organization: true and drop repository",
                    )
        elif group_repos and not runner_group:
            problems.add(f"{path}.groupRepositories", "needs runnerGroup", "name the runner group to restrict")
    if not isinstance(owner, str) or not _GITHUB_NAME.match(owner or ""):
        problems.add(
            "github:owner",
            "is required: the user or organization that owns the runners",
            "pulumi config set github:owner <org-or-user>",
        )
        owner = owner if isinstance(owner, str) else ""
    return GithubTarget(
        owner=owner,
        repository=None if organization else repository,
        organization=organization,
        runner_group=runner_group if organization else None,
        group_repositories=group_repos,
        base_url=base_url.rstrip("/"),
        runs_on_variable=variable,
    )


def _check_github_name(name: str) -> str | None:
    return None if _GITHUB_NAME.match(name) else f"{name!r} is not a valid GitHub name"


def _check_variable(name: str) -> str | None:
    if name and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        return f"{name!r} is not a valid Actions variable name (letters, digits, '_')"
    if name.upper().startswith("GITHUB_"):
        return "Actions variable names cannot start with GITHUB_"
    return None


def _check_version(version: str) -> str | None:
    if not _VERSION.match(version):
        return f"{version!r} is not a pinned runner version like 2.331.0 (no 'v', no 'latest')"
    if version not in ARM64_SHA256:
        return f"runner {version} has no pinned SHA-256 in this project, so its download cannot be verified"
    return None


def read_runner(problems: Problems, data: Any) -> RunnerSettings:
    path = f"{NS}:runner"
    section = Section(problems, path, data if data is not None else {})
    if data is None:
        problems.add(path, "is required but missing", 'at least: version: "2.331.0"')
    known = ", ".join(sorted(ARM64_SHA256))
    version = section.get(
        "version", str, hint=f"pinned versions: {known} (components/runner_releases.py)", check=_check_version
    )
    runner = RunnerSettings(
        version=version or "",
        sha256=ARM64_SHA256.get(version or "", ""),
        labels=section.get_list("labels", str, check=_check_label),
        name_prefix=section.get("namePrefix", str, "arm64", check=_check_prefix),
        ephemeral=section.get("ephemeral", bool, False),
        idle_timeout_minutes=section.get("idleTimeoutMinutes", int, 30, check=_at_least(1, "minute")),
        idle_action=section.get("idleAction", str, "stop", choices=IDLE_ACTIONS),  # type: ignore[arg-type]
        disable_update=section.get("disableUpdate", bool, False),
        download_base_url=section.get(
            "downloadBaseUrl", str, "https://github.com/actions/runner/releases/download", check=_check_download_url
        ),
        block_metadata=section.get("blockMetadata", bool, True),
        docker_prune_threshold_gb=section.get("dockerPruneThresholdGb", int, 10, check=_at_least(1, "GB")),
    )
    section.done()
    return runner


def _check_download_url(url: str) -> str | None:
    if url.startswith("file://"):
        return None
    return _check_url(url)


def _check_prefix(prefix: str) -> str | None:
    if not re.match(r"^[a-z0-9][a-z0-9-]{0,19}$", prefix):
        return f"{prefix!r} must be 1-20 lowercase letters, digits or '-'"
    return None


def _at_least(minimum: int, unit: str):
    def check(value: int) -> str | None:
        return (
            f"must be at least {minimum} {unit}{'s' if minimum != 1 else ''}, got {value}" if value < minimum else None
        )

    return check


def _check_pool_name(name: str) -> str | None:
    if not _POOL_NAME.match(name):
        return f"{name!r} must be 1-24 lowercase letters, digits or '-' (it becomes part of runner names)"
    return None


def _check_graviton(instance_type: str) -> str | None:
    if limits.ec2_family(instance_type) is None:
        return f"{instance_type!r} is not an EC2 instance type"
    if not limits.is_graviton(instance_type):
        return f"{instance_type!r} is not an ARM64 (Graviton) instance type"
    return None


def _check_x86(instance_type: str) -> str | None:
    if limits.ec2_family(instance_type) is None:
        return f"{instance_type!r} is not an EC2 instance type"
    if not limits.is_x86_64(instance_type):
        return f"{instance_type!r} is not an x86_64 instance type; emulated pools run on x86_64 hosts"
    return None


def _check_ami(ami: str) -> str | None:
    return None if re.match(r"^ami-[0-9a-f]{8,17}$", ami) else f"{ami!r} is not an AMI id (ami-...)"


def _check_ocid(kind: str):
    def check(value: str) -> str | None:
        if not value.startswith(f"ocid1.{kind}.") and not (
            kind == "compartment" and value.startswith("ocid1.tenancy.")
        ):
            return f"{value!r} is not an OCI {kind} OCID (ocid1.{kind}.…)"
        return None

    return check


_POOL_KEYS = {
    "aws": ("instanceType", "spot", "ami"),
    "emulated": ("instanceType", "spot", "ami"),
    "oci": ("shape", "ocpus", "memoryGb", "availabilityDomains", "imageId"),
}


def read_pools(problems: Problems, data: Any, runner: RunnerSettings) -> tuple[Pool, ...]:
    path = f"{NS}:pools"
    if data is None:
        problems.add(path, "is required but missing", "list at least one pool: - {name: graviton, cloud: aws}")
        return ()
    if not isinstance(data, list) or not data:
        problems.add(path, "must be a non-empty list of pools", "- {name: graviton, cloud: aws, count: 1}")
        return ()
    pools: list[Pool] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(data):
        pool = _read_pool(problems, f"{path}[{i}]", item, runner)
        if pool is None:
            continue
        if pool.name in seen:
            problems.add(
                f"{path}[{i}].name",
                f"pool name {pool.name!r} is already used by {path}[{seen[pool.name]}]",
                "pool names must be unique in a stack (they are part of runner names)",
            )
        seen.setdefault(pool.name, i)
        pools.append(pool)
    return tuple(pools)


def _read_pool(problems: Problems, path: str, data: Any, runner: RunnerSettings) -> Pool | None:
    section = Section(problems, path, data)
    if not section.valid:
        return None
    name = section.get("name", str, check=_check_pool_name, hint="e.g. name: graviton")
    cloud = section.get("cloud", str, choices=CLOUDS, hint="cloud: aws | oci | emulated")
    count = section.get("count", int, 1, check=_at_least(0, "runner"))
    labels = section.get_list("labels", str, check=_check_label)
    min_disk = limits.OCI_MIN_BOOT_VOLUME_GB if cloud == "oci" else limits.MIN_DISK_GB
    disk = section.get(
        "diskGb",
        int,
        50,
        check=_at_least(min_disk, "GB"),
        hint=f"Docker builds need {limits.MIN_DISK_GB}+ GB; OCI boot volumes start at {limits.OCI_MIN_BOOT_VOLUME_GB} GB",
    )
    common: dict[str, Any] = {"name": name, "count": count, "disk_gb": disk, "labels": labels}
    pool: Pool | None = None
    if cloud == "aws":
        pool = AwsPool(
            **common,
            instance_type=section.get(
                "instanceType",
                str,
                "t4g.medium",
                check=_check_graviton,
                hint="Graviton families: a1, t4g, m7g, c7g, r7g, m8g, ... (aws pools run arm64)",
            ),
            spot=section.get("spot", bool, False),
            ami=section.get("ami", str, None, check=_check_ami),
        )
    elif cloud == "emulated":
        pool = EmulatedPool(
            **common,
            instance_type=section.get(
                "instanceType",
                str,
                "c7a.large",
                check=_check_x86,
                hint="use an x86_64 type such as c7a.large or t3.large, or cloud: aws for Graviton",
            ),
            spot=section.get("spot", bool, False),
            ami=section.get("ami", str, None, check=_check_ami),
        )
    elif cloud == "oci":
        pool = _read_oci_pool(section, path, common)
    if cloud in _POOL_KEYS:
        _report_foreign_keys(problems, section, path, cloud)
    else:  # the cloud is already reported; its keys cannot be judged
        section.read_keys.extend(k for keys in _POOL_KEYS.values() for k in keys)
    section.done()
    if pool is not None and name is not None:
        _check_runner_names(problems, path, runner, pool)
        if runner.idle_action == "terminate" and cloud == "oci":
            problems.add(
                f"{NS}:runner.idleAction",
                f"'terminate' is not possible for OCI pool {name!r}: a power-off from inside an OCI instance stops it",
                "use idleAction: stop (a stopped A1 instance costs nothing) or none",
            )
        if runner.idle_action == "terminate" and getattr(pool, "spot", False):
            problems.add(
                f"{path}.spot",
                "spot pools use a persistent request that stops on interruption; idleAction 'terminate' conflicts",
                "use idleAction: stop with spot, or spot: false to terminate idle runners",
            )
    return pool if name is not None and cloud is not None else None


def _read_oci_pool(section: Section, path: str, common: dict[str, Any]) -> OciPool:
    problems = section.problems
    shape = section.get(
        "shape",
        str,
        "VM.Standard.A1.Flex",
        check=_check_oci_shape,
        hint="ARM64 runners on OCI use VM.Standard.A1.Flex (Ampere A1)",
    )
    ocpus = section.get("ocpus", int, 4, check=_between(1, limits.OCI_A1_MAX_OCPUS, "OCPUs"))
    memory = section.get("memoryGb", int, 6 * ocpus if isinstance(ocpus, int) else 24, check=_at_least(1, "GB"))
    low, high = limits.OCI_A1_GB_PER_OCPU
    if isinstance(ocpus, int) and isinstance(memory, int) and not (low * ocpus <= memory <= high * ocpus):
        problems.add(
            f"{path}.memoryGb",
            f"{memory} GB for {ocpus} OCPUs is outside A1's {low}-{high} GB per OCPU",
            f"choose memoryGb between {low * ocpus} and {high * ocpus}",
        )
    domains = section.get_list("availabilityDomains", int, (1, 2, 3), check=_between(1, 3, "availability domain"))
    if len(set(domains)) != len(domains):
        problems.add(f"{path}.availabilityDomains", f"{list(domains)} lists a domain twice", "list each domain once")
    if not domains and section.has("availabilityDomains"):
        problems.add(f"{path}.availabilityDomains", "must list at least one domain (1-3)", "e.g. [1, 2, 3]")
    return OciPool(
        **common,
        shape=shape,
        ocpus=ocpus,
        memory_gb=memory,
        availability_domains=domains or (1, 2, 3),
        image_id=section.get("imageId", str, None, check=_check_ocid("image")),
    )


def _check_oci_shape(shape: str) -> str | None:
    if shape in limits.OCI_ARM_SHAPES:
        return None
    return f"{shape!r} is not an ARM64 shape this project deploys (only {', '.join(sorted(limits.OCI_ARM_SHAPES))})"


def _between(low: int, high: int, unit: str):
    def check(value: int) -> str | None:
        return None if low <= value <= high else f"must be between {low} and {high} {unit}s, got {value}"

    return check


def _report_foreign_keys(problems: Problems, section: Section, path: str, cloud: str) -> None:
    """Keys that belong to another cloud's pools get a specific hint instead of a generic did-you-mean."""
    own = set(_POOL_KEYS[cloud])
    for other, keys in _POOL_KEYS.items():
        for key in keys:
            if key not in own and section.has(key):
                section.read_keys.append(key)
                problems.add(
                    f"{path}.{key}",
                    f"is a key of {other} pools, not of {cloud} pools",
                    f"{cloud} pools take: {', '.join(_POOL_KEYS[cloud])}",
                )


def _check_runner_names(problems: Problems, path: str, runner: RunnerSettings, pool: Pool) -> None:
    # The stack name is not known here; a 20-char prefix, 24-char pool and index leave room for it.
    longest = f"{runner.name_prefix}-{'s' * 12}-{pool.name}-{max(pool.count - 1, 0)}"
    if len(longest) > 64:
        problems.add(f"{path}.name", "runner names would exceed 64 characters", "shorten namePrefix or the pool name")


def read_aws(problems: Problems, data: Any, region: Any, needed: bool) -> AwsSettings:
    path = f"{NS}:aws"
    section = Section(problems, path, data if data is not None else {})
    vpc_id = section.get("vpcId", str, None, check=_pattern(r"^vpc-[0-9a-f]{8,17}$", "a VPC id (vpc-...)"))
    subnets = section.get_list("subnetIds", str, check=_pattern(r"^subnet-[0-9a-f]{8,17}$", "a subnet id (subnet-...)"))
    egress = _read_egress(problems, section)
    hop_limit = section.get("metadataHopLimit", int, 1, check=_between(1, 64, "hop"))
    ssh_key = section.get("sshKeyName", str, None)
    wake_on_job = section.get("wakeOnJob", bool, True)
    section.done()
    if (vpc_id is None) != (not subnets) and (section.has("vpcId") or section.has("subnetIds")):
        problems.add(
            f"{path}.subnetIds" if vpc_id else f"{path}.vpcId",
            "vpcId and subnetIds go together",
            "give both to use an existing network, or neither",
        )
    if needed and not isinstance(region, str):
        problems.add("aws:region", "is required for aws and emulated pools", "pulumi config set aws:region us-east-1")
    return AwsSettings(
        region=region if isinstance(region, str) else None,
        vpc_id=vpc_id,
        subnet_ids=subnets,
        egress=egress,
        metadata_hop_limit=hop_limit,
        ssh_key_name=ssh_key,
        wake_on_job=wake_on_job,
    )


def _pattern(regex: str, what: str):
    compiled = re.compile(regex)

    def check(value: str) -> str | None:
        return None if compiled.match(value) else f"{value!r} is not {what}"

    return check


def _read_egress(problems: Problems, parent: Section) -> tuple[EgressRule, ...]:
    raw = parent.raw("egress")
    if raw is None:
        return DEFAULT_EGRESS
    path = parent.key_path("egress")
    if not isinstance(raw, list):
        problems.add(path, "must be a list of {protocol, port, cidr, description}")
        return DEFAULT_EGRESS
    rules = []
    for i, item in enumerate(raw):
        section = Section(problems, f"{path}[{i}]", item)
        protocol = section.get("protocol", str, "tcp", choices=("tcp", "udp"))
        port = section.get("port", int, check=_between(1, 65535, "port"))
        cidr = section.get("cidr", str, "0.0.0.0/0", check=_check_cidr)
        description = section.get("description", str, "")
        section.done()
        if port is not None:
            rules.append(EgressRule(protocol, port, cidr, description))  # type: ignore[arg-type]
    return tuple(rules)


def _check_cidr(cidr: str) -> str | None:
    try:
        ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return f"{cidr!r} is not a CIDR block"
    return None


def _check_ssh_cidr(cidr: str) -> str | None:
    problem = _check_cidr(cidr)
    if problem:
        return problem
    if ipaddress.ip_network(cidr, strict=False).prefixlen == 0:
        return "opens SSH to the whole internet"
    return None


def read_oci(problems: Problems, data: Any, needed: bool) -> OciSettings | None:
    path = f"{NS}:oci"
    if data is None:
        if needed:
            problems.add(path, "is required for oci pools", "set compartmentId: ocid1.compartment.oc1..…")
        return None
    section = Section(problems, path, data)
    compartment = section.get(
        "compartmentId",
        str,
        check=_check_ocid("compartment"),
        hint="the OCID of the compartment the runners go to (oci iam compartment list)",
    )
    free_tier = section.get("freeTier", bool, True)
    limits_raw = section.raw("freeTierLimits")
    tier_limits = None
    if limits_raw is not None:
        lim = Section(problems, section.key_path("freeTierLimits"), limits_raw)
        default = limits.OCI_ALWAYS_FREE_A1
        tier_limits = FreeTierLimits(
            ocpus=lim.get("ocpus", int, default.ocpus, check=_at_least(0, "OCPU")),
            memory_gb=lim.get("memoryGb", int, default.memory_gb, check=_at_least(0, "GB")),
            block_storage_gb=lim.get("blockStorageGb", int, default.block_storage_gb, check=_at_least(0, "GB")),
        )
        lim.done()
    settings = OciSettings(
        compartment_id=compartment or "",
        tenancy_id=section.get("tenancyId", str, None, check=_check_ocid("tenancy")),
        free_tier=free_tier,
        free_tier_limits=tier_limits,
        subnet_id=section.get("subnetId", str, None, check=_check_ocid("subnet")),
        ssh_cidr=section.get(
            "sshCidr", str, None, check=_check_ssh_cidr, hint="name your admin range, e.g. 203.0.113.0/24"
        ),
        ssh_public_key=section.get("sshPublicKey", str, None),
    )
    section.done()
    return settings


def check_free_tier(problems: Problems, pools: tuple[Pool, ...], oci: OciSettings | None) -> None:
    """With freeTier on, the stack's A1 totals must fit the Always Free allowance."""
    if oci is None or not oci.free_tier:
        return
    allowance = oci.free_tier_limits or limits.OCI_ALWAYS_FREE_A1
    oci_pools = [p for p in pools if isinstance(p, OciPool)]
    totals = {
        "ocpus": (sum(p.ocpus * p.count for p in oci_pools), allowance.ocpus, "OCPUs"),
        "memoryGb": (sum(p.memory_gb * p.count for p in oci_pools), allowance.memory_gb, "GB of memory"),
        "diskGb": (sum(p.disk_gb * p.count for p in oci_pools), allowance.block_storage_gb, "GB of boot volumes"),
    }
    for key, (total, allowed, unit) in totals.items():
        if total > allowed:
            detail = " + ".join(f"{p.name}: {p.count}×{_pool_value(p, key)}" for p in oci_pools)
            problems.add(
                f"{NS}:pools[*].{key}",
                f"OCI pools use {total} {unit} in total ({detail}); Always Free allows {allowed}",
                "lower count/ocpus/memoryGb/diskGb, or set arm64-runners:oci.freeTier: false to accept charges",
            )


def _pool_value(pool: OciPool, key: str) -> int:
    return {"ocpus": pool.ocpus, "memoryGb": pool.memory_gb, "diskGb": pool.disk_gb}[key]
