"""Readers for the github, runner, aws and oci sections of the stack file (pools: `pools.py`).

One function per section; each reads its keys through `Section` (so unknown keys, wrong types, nulls
and missing keys are reported with their path), checks each value with the rule in `rules.py` and adds
the cross-key checks that belong to it.
"""

from __future__ import annotations

from typing import Any

from components.config import limits, rules
from components.config.model import (
    DEFAULT_EGRESS,
    DEFAULT_GITHUB_URL,
    AwsSettings,
    EgressRule,
    FreeTierLimits,
    GithubTarget,
    OciSettings,
    RunnerSettings,
)
from components.config.reader import Problems, Section
from components.runner_releases import ARM64_SHA256

NS = "arm64-runners"
IDLE_ACTIONS = ("none", "stop", "terminate")
DEFAULT_DOWNLOAD_BASE_URL = "https://github.com/actions/runner/releases/download"


def read_github(problems: Problems, owner: Any, data: Any) -> GithubTarget:
    path = f"{NS}:github"
    section = Section(problems, path, data if data is not None else {})
    if data is None:
        problems.add(path, "is required but missing", "set repository: <repo> (or organization: true)")
    repository = section.get(
        "repository",
        str,
        None,
        check=rules.github_repository_problem,
        hint="the repository's name; its owner is github:owner",
    )
    organization = section.get("organization", bool, False)
    runner_group = section.get("runnerGroup", str, None, check=rules.runner_group_problem)
    group_repos = section.get_list("groupRepositories", str, check=rules.github_repository_problem)
    base_url = section.get(
        "baseUrl",
        str,
        DEFAULT_GITHUB_URL,
        check=rules.https_url_problem,
        hint="your GitHub Enterprise Server URL, e.g. https://github.example.com (no user:password@)",
    )
    variable = section.get("runsOnVariable", str, "ARM64_RUNS_ON", check=rules.actions_variable_problem)
    section.done()
    if data is not None and section.valid:
        if repository and organization:
            problems.add(
                f"{path}.organization",
                "repository and organization: true exclude each other",
                "repository-level runners: keep repository; organization-level runners: remove repository",
            )
        if not section.has("repository") and not organization:
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
    owner = _read_owner(problems, owner)
    return GithubTarget(
        owner=owner,
        repository=None if organization else repository,
        organization=organization,
        runner_group=runner_group if organization else None,
        group_repositories=group_repos,
        base_url=base_url.rstrip("/") if base_url else DEFAULT_GITHUB_URL,
        runs_on_variable=variable if variable is not None else "ARM64_RUNS_ON",
    )


def _read_owner(problems: Problems, owner: Any) -> str:
    hint = "pulumi config set github:owner <org-or-user>"
    if owner is None:
        problems.add("github:owner", "is required: the user or organization that owns the runners", hint)
        return ""
    if not isinstance(owner, str):
        problems.add("github:owner", f"must be a string, got {owner!r}", hint)
        return ""
    problem = rules.github_owner_problem(owner)
    if problem:
        problems.add("github:owner", problem, hint)
        return ""
    return owner


def read_runner(problems: Problems, data: Any) -> RunnerSettings:
    path = f"{NS}:runner"
    section = Section(problems, path, data if data is not None else {})
    known = ", ".join(sorted(ARM64_SHA256))
    if data is None:
        problems.add(path, "is required but missing", f'at least: version: "{max(ARM64_SHA256)}" (pinned: {known})')
    version = ""
    if data is not None:  # a missing section is reported once, above
        version = section.get(
            "version", str, hint=f"pinned versions: {known} (components/runner_releases.py)", check=_check_version
        )
    low, high = limits.IDLE_TIMEOUT_MINUTES
    threshold_low, threshold_high = limits.DOCKER_PRUNE_THRESHOLD_GB
    runner = RunnerSettings(
        version=version or "",
        sha256=ARM64_SHA256.get(version or "", ""),
        labels=section.get_list(
            "labels", str, check=rules.label_problem, max_items=limits.GITHUB_MAX_LABELS, hint=_LABEL_HINT
        ),
        name_prefix=section.get("namePrefix", str, "arm64", check=rules.name_prefix_problem),
        ephemeral=section.get("ephemeral", bool, False),
        idle_timeout_minutes=section.get(
            "idleTimeoutMinutes",
            int,
            30,
            check=rules.between(low, high, "minutes"),
            hint="a week at most: for runners that never power off use idleAction: none",
        ),
        idle_action=section.get("idleAction", str, "stop", choices=IDLE_ACTIONS),  # type: ignore[arg-type]
        disable_update=section.get("disableUpdate", bool, False),
        download_base_url=section.get("downloadBaseUrl", str, DEFAULT_DOWNLOAD_BASE_URL, check=_check_download_url),
        block_metadata=section.get("blockMetadata", bool, True),
        docker_prune_threshold_gb=section.get(
            "dockerPruneThresholdGb",
            int,
            10,
            check=rules.between(threshold_low, threshold_high, "GB"),
            hint="free space (GB) under which Docker is pruned; it must stay below every pool's diskGb",
        ),
    )
    section.done()
    return runner


_LABEL_HINT = f"a list of labels, e.g. [gpu, large]; a runner takes at most {limits.GITHUB_MAX_LABELS} labels"


def _check_version(version: str) -> str | None:
    if not limits.RUNNER_VERSION_PATTERN.match(version):
        return f"{version!r} is not a pinned runner version like 2.331.0 (no 'v', no 'latest')"
    if version not in ARM64_SHA256:
        return f"runner {version} has no pinned SHA-256 in this project, so its download cannot be verified"
    return None


def _check_download_url(url: str) -> str | None:
    """https, or http/file for a mirror: the tarball is verified against its pinned SHA-256 either way."""
    if url.startswith("file:///") and not any(c.isspace() for c in url):
        return None
    if url.startswith("http://"):
        return rules.https_url_problem("https://" + url.removeprefix("http://"))
    return rules.https_url_problem(url)


def read_aws(problems: Problems, data: Any, region: Any, needed: bool) -> AwsSettings:
    path = f"{NS}:aws"
    section = Section(problems, path, data if data is not None else {})
    vpc_id = section.get("vpcId", str, None, check=rules.vpc_problem)
    subnets = section.get_list("subnetIds", str, check=rules.subnet_problem, hint="e.g. [subnet-0123456789abcdef0]")
    egress = _read_egress(problems, section)
    low, high = limits.METADATA_HOP_LIMIT
    hop_limit = section.get("metadataHopLimit", int, 1, check=rules.between(low, high, "hops"))
    ssh_key = section.get("sshKeyName", str, None, check=rules.key_name_problem)
    wake_on_job = section.get("wakeOnJob", bool, True)
    section.done()
    if (vpc_id is None) != (not subnets) and (section.has("vpcId") or section.has("subnetIds")):
        problems.add(
            f"{path}.subnetIds" if vpc_id else f"{path}.vpcId",
            "vpcId and subnetIds go together",
            "give both to use an existing network, or neither",
        )
    region_ok = _read_region(problems, "aws:region", region, rules.aws_region_problem, "us-east-1")
    if needed and region is None:
        problems.add("aws:region", "is required for aws and emulated pools", "pulumi config set aws:region us-east-1")
    return AwsSettings(
        region=region if region_ok else None,
        vpc_id=vpc_id,
        subnet_ids=subnets,
        egress=egress,
        metadata_hop_limit=hop_limit,
        ssh_key_name=ssh_key,
        wake_on_job=wake_on_job,
    )


def read_oci_region(problems: Problems, region: Any) -> None:
    """`oci:region` belongs to the OCI provider; a wrong one is still refused here, before any resource."""
    _read_region(problems, "oci:region", region, rules.oci_region_problem, "us-ashburn-1")


def _read_region(problems: Problems, key: str, region: Any, rule: rules.Check, example: str) -> bool:
    if region is None:
        return False
    problem = f"must be a string, got {region!r}" if not isinstance(region, str) else rule(region)
    if problem:
        problems.add(key, problem, f"pulumi config set {key} {example}")
        return False
    return True


def _read_egress(problems: Problems, parent: Section) -> tuple[EgressRule, ...]:
    if not parent.has("egress"):
        parent.raw("egress")
        return DEFAULT_EGRESS
    raw = parent.raw("egress")
    path = parent.key_path("egress")
    example = "- {protocol: tcp, port: 443, cidr: 0.0.0.0/0, description: HTTPS}"
    if not isinstance(raw, list):
        problems.add(path, f"must be a list of {{protocol, port, cidr, description}}, got {raw!r:.60}", example)
        return DEFAULT_EGRESS
    if len(raw) > limits.MAX_EGRESS_RULES:
        problems.add(
            path,
            f"has {len(raw)} rules; a security group takes {limits.MAX_EGRESS_RULES}",
            "merge rules by CIDR",
        )
        return DEFAULT_EGRESS
    rules_read = []
    low, high = limits.PORT_RANGE
    for i, item in enumerate(raw):
        section = Section(problems, f"{path}[{i}]", item)
        protocol = section.get("protocol", str, "tcp", choices=("tcp", "udp"))
        port = section.get("port", int, check=rules.between(low, high, "(a port number)"), hint=example)
        cidr = section.get("cidr", str, "0.0.0.0/0", check=rules.cidr_problem)
        description = section.get("description", str, "", check=_check_description)
        section.done()
        if port is not None and section.valid:
            rules_read.append(EgressRule(protocol, port, cidr, description))  # type: ignore[arg-type]
    return tuple(rules_read)


def _check_description(text: str) -> str | None:
    if limits.SG_DESCRIPTION_PATTERN.match(text):
        return None
    return (
        f"{text!r:.80} is not a security group rule description (at most 255 of a-z A-Z 0-9 . _-:/()#,@[]+=&;{{}}!$*)"
    )


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
        check=rules.ocid_problem("compartment", "tenancy"),
        hint="the OCID of the compartment the runners go to (oci iam compartment list)",
    )
    free_tier = section.get("freeTier", bool, True)
    tier_limits = _read_free_tier_limits(problems, section)
    settings = OciSettings(
        compartment_id=compartment or "",
        tenancy_id=section.get("tenancyId", str, None, check=rules.ocid_problem("tenancy")),
        free_tier=free_tier,
        free_tier_limits=tier_limits,
        subnet_id=section.get("subnetId", str, None, check=rules.ocid_problem("subnet")),
        ssh_cidr=section.get(
            "sshCidr",
            str,
            None,
            check=rules.ssh_cidr_problem,
            hint=f"name your admin range, e.g. 203.0.113.0/24 (at least /{limits.MIN_SSH_PREFIX[4]}, IPv6 /{limits.MIN_SSH_PREFIX[6]})",
        ),
        ssh_public_key=section.get("sshPublicKey", str, None, check=_check_ssh_keys),
    )
    section.done()
    return settings


def _read_free_tier_limits(problems: Problems, section: Section) -> FreeTierLimits | None:
    raw = section.raw("freeTierLimits")
    if raw is None and not section.has("freeTierLimits"):
        return None
    lim = Section(problems, section.key_path("freeTierLimits"), raw)
    if raw is None:
        problems.add(lim.path, "is empty (null)", "give {ocpus, memoryGb, blockStorageGb} or remove the key")
    allowance = limits.OCI_ALWAYS_FREE_A1
    hint = "these only lower the documented Always Free allowance; for more, set freeTier: false"
    tier = FreeTierLimits(
        ocpus=lim.get("ocpus", int, allowance.ocpus, check=rules.between(0, allowance.ocpus, "OCPUs"), hint=hint),
        memory_gb=lim.get(
            "memoryGb", int, allowance.memory_gb, check=rules.between(0, allowance.memory_gb, "GB"), hint=hint
        ),
        block_storage_gb=lim.get(
            "blockStorageGb",
            int,
            allowance.block_storage_gb,
            check=rules.between(0, allowance.block_storage_gb, "GB"),
            hint=hint,
        ),
    )
    lim.done()
    return tier


def _check_ssh_keys(text: str) -> str | None:
    """One OpenSSH public key a line (OCI's ssh_authorized_keys takes several)."""
    for number, line in enumerate(text.split("\n"), start=1):
        problem = rules.ssh_public_key_problem(line)
        if problem:
            return f"line {number}: {problem}" if "\n" in text else problem
    return None
