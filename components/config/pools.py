"""Reader for `arm64-runners:pools`: each pool's keys, its cloud's keys, and the stack-wide pool checks
(unique names, runner counts under the caps of `limits.py`, OCI Always Free totals).
"""

from __future__ import annotations

from typing import Any

from components.config import limits, rules
from components.config.model import (
    BASE_LABELS,
    EMULATED_LABEL,
    AwsPool,
    EmulatedPool,
    OciPool,
    OciSettings,
    Pool,
    RunnerSettings,
)
from components.config.reader import Problems, Section
from components.config.sections import NS

CLOUDS = ("aws", "oci", "emulated")
_POOL_KEYS = {
    "aws": ("instanceType", "spot", "ami"),
    "emulated": ("instanceType", "spot", "ami"),
    "oci": ("shape", "ocpus", "memoryGb", "availabilityDomains", "imageId"),
}
_EXAMPLE = "- {name: graviton, cloud: aws, count: 1}"
_CAPS_HINT = (
    f"at most {limits.MAX_RUNNERS_PER_POOL} runners a pool and {limits.MAX_RUNNERS_PER_STACK} a stack "
    "(Pulumi's dynamic providers fail near 950 dynamic resources in one program; see limits.py)"
)


def read_pools(problems: Problems, data: Any, runner: RunnerSettings) -> tuple[Pool, ...]:
    path = f"{NS}:pools"
    if data is None:
        problems.add(path, "is required but missing", f"list at least one pool: {_EXAMPLE}")
        return ()
    if not isinstance(data, list) or not data:
        problems.add(path, f"must be a non-empty list of pools, got {data!r:.60}", _EXAMPLE)
        return ()
    if len(data) > limits.MAX_POOLS_PER_STACK:
        problems.add(path, f"has {len(data)} pools; a stack takes at most {limits.MAX_POOLS_PER_STACK}", "split it")
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
    total = sum(p.count for p in pools)
    if total > limits.MAX_RUNNERS_PER_STACK:
        detail = " + ".join(f"{p.name}: {p.count}" for p in pools)
        problems.add(f"{path}[*].count", f"the stack would have {total} runners ({detail})", _CAPS_HINT)
    return tuple(pools)


def _read_pool(problems: Problems, path: str, data: Any, runner: RunnerSettings) -> Pool | None:
    section = Section(problems, path, data)
    if not section.valid:
        return None
    name = section.get("name", str, check=rules.pool_name_problem, hint="e.g. name: graviton")
    cloud = section.get("cloud", str, choices=CLOUDS, hint="cloud: aws | oci | emulated")
    count = section.get(
        "count", int, 1, check=rules.between(0, limits.MAX_RUNNERS_PER_POOL, "runners"), hint=_CAPS_HINT
    )
    labels = section.get_list(
        "labels", str, check=rules.label_problem, max_items=limits.GITHUB_MAX_LABELS, hint="e.g. labels: [gpu]"
    )
    low, high = (
        (limits.OCI_MIN_BOOT_VOLUME_GB, limits.OCI_MAX_BOOT_VOLUME_GB)
        if cloud == "oci"
        else (limits.MIN_DISK_GB, limits.EBS_GP3_MAX_GB)
    )
    disk = section.get(
        "diskGb",
        int,
        50,
        check=rules.between(low, high, "GB"),
        hint=f"Docker builds need {limits.MIN_DISK_GB}+ GB; OCI boot volumes are "
        f"{limits.OCI_MIN_BOOT_VOLUME_GB}-{limits.OCI_MAX_BOOT_VOLUME_GB} GB, EBS gp3 at most {limits.EBS_GP3_MAX_GB}",
    )
    common: dict[str, Any] = {"name": name, "count": count, "disk_gb": disk, "labels": labels}
    pool: Pool | None = None
    if cloud in _EC2_POOLS:
        pool = _read_ec2_pool(section, cloud, common)
    elif cloud == "oci":
        pool = _read_oci_pool(section, path, common)
    if cloud in _POOL_KEYS:
        _report_foreign_keys(problems, section, path, cloud)
    else:  # the cloud is already reported; its keys cannot be judged
        section.read_keys.extend(k for keys in _POOL_KEYS.values() for k in keys)
    section.done()
    if pool is not None and name is not None:
        _check_pool_against_runner(problems, path, runner, pool)
    return pool if name is not None and cloud is not None else None


#: EC2-based pools: the model class, the architecture its hosts need, the default type and the hint.
_EC2_POOLS: dict[str, tuple[type[AwsPool] | type[EmulatedPool], rules.Arch, str, str]] = {
    "aws": (
        AwsPool,
        "arm64",
        "t4g.medium",
        "Graviton families: a1, t4g, m7g, c7g, r7g, m8g, ... (aws pools run arm64)",
    ),
    "emulated": (
        EmulatedPool,
        "x86_64",
        "c7a.large",
        "use an x86_64 type such as c7a.large or t3.large, or cloud: aws for Graviton",
    ),
}


def _read_ec2_pool(section: Section, cloud: str, common: dict[str, Any]) -> AwsPool | EmulatedPool:
    model, arch, default_type, hint = _EC2_POOLS[cloud]
    return model(
        **common,
        instance_type=section.get(
            "instanceType", str, default_type, check=lambda t: rules.instance_type_problem(t, arch), hint=hint
        ),
        spot=section.get("spot", bool, False),
        ami=section.get("ami", str, None, check=rules.ami_problem),
    )


def _read_oci_pool(section: Section, path: str, common: dict[str, Any]) -> OciPool:
    problems = section.problems
    shape = section.get(
        "shape",
        str,
        "VM.Standard.A1.Flex",
        check=oci_shape_problem,
        hint="ARM64 runners on OCI use VM.Standard.A1.Flex (Ampere A1)",
    )
    ocpus = section.get("ocpus", int, 4, check=rules.between(1, limits.OCI_A1_MAX_OCPUS, "OCPUs"))
    memory = section.get(
        "memoryGb",
        int,
        6 * ocpus if isinstance(ocpus, int) else 24,
        check=rules.between(1, limits.OCI_A1_MAX_MEMORY_GB, "GB"),
    )
    if isinstance(ocpus, int) and isinstance(memory, int):
        problem = oci_memory_problem(ocpus, memory)
        if problem:
            low, high = _memory_range(ocpus)
            problems.add(f"{path}.memoryGb", problem, f"choose memoryGb between {low} and {high}")
    low, high = limits.OCI_AVAILABILITY_DOMAINS
    domains = section.get_list(
        "availabilityDomains", int, (1, 2, 3), check=rules.between(low, high, "(availability domain number)")
    )
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
        image_id=section.get("imageId", str, None, check=rules.ocid_problem("image")),
    )


def oci_shape_problem(shape: str) -> str | None:
    if shape in limits.OCI_ARM_SHAPES:
        return None
    return f"{shape!r} is not an ARM64 shape this project deploys (only {', '.join(sorted(limits.OCI_ARM_SHAPES))})"


def _memory_range(ocpus: int) -> tuple[int, int]:
    low, high = limits.OCI_A1_GB_PER_OCPU
    return low * ocpus, min(high * ocpus, limits.OCI_A1_MAX_MEMORY_GB)


def oci_memory_problem(ocpus: int, memory_gb: int) -> str | None:
    """A1's 1-64 GB per OCPU, 512 GB at most."""
    low, high = _memory_range(ocpus)
    if low <= memory_gb <= high:
        return None
    per_low, per_high = limits.OCI_A1_GB_PER_OCPU
    return (
        f"{memory_gb} GB for {ocpus} OCPUs is outside A1's {per_low}-{per_high} GB per OCPU "
        f"(at most {limits.OCI_A1_MAX_MEMORY_GB} GB)"
    )


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


def _check_pool_against_runner(problems: Problems, path: str, runner: RunnerSettings, pool: Pool) -> None:
    """Checks that need the pool and the stack-wide runner settings together."""
    # The stack name is not known here; a 20-char prefix, 24-char pool and index leave room for it.
    longest = f"{runner.name_prefix}-{'s' * 12}-{pool.name}-{max(pool.count - 1, 0)}"
    if len(longest) > 64:
        problems.add(f"{path}.name", "runner names would exceed 64 characters", "shorten namePrefix or the pool name")
    extra = (EMULATED_LABEL,) if pool.cloud == "emulated" else ()
    labels = {label.lower() for label in (*BASE_LABELS, *runner.labels, *pool.labels, *extra)}
    if len(labels) > limits.GITHUB_MAX_LABELS:
        problems.add(
            f"{path}.labels",
            f"its runners would carry {len(labels)} labels; GitHub takes at most {limits.GITHUB_MAX_LABELS}",
            "drop labels from runner.labels or this pool",
        )
    if isinstance(pool.disk_gb, int) and runner.docker_prune_threshold_gb >= pool.disk_gb:
        problems.add(
            f"{NS}:runner.dockerPruneThresholdGb",
            f"{runner.docker_prune_threshold_gb} GB is not below pool {pool.name!r}'s diskGb ({pool.disk_gb})",
            "Docker would be pruned on every check: lower the threshold or raise diskGb",
        )
    if runner.idle_action == "terminate" and pool.cloud == "oci":
        problems.add(
            f"{NS}:runner.idleAction",
            f"'terminate' is not possible for OCI pool {pool.name!r}: a power-off from inside an OCI instance stops it",
            "use idleAction: stop (a stopped A1 instance costs nothing) or none",
        )
    if runner.idle_action == "terminate" and getattr(pool, "spot", False):
        problems.add(
            f"{path}.spot",
            "spot pools use a persistent request that stops on interruption; idleAction 'terminate' conflicts",
            "use idleAction: stop with spot, or spot: false to terminate idle runners",
        )


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
