"""Typed, validated stack configuration: the only shape the rest of the program sees.

`components.config.load` builds these objects from a stack's config (once, before any
resource is registered); every other module trusts them and never reads `pulumi.Config`.
All objects are frozen so a component cannot change what another one will see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Cloud = Literal["aws", "oci", "emulated"]
IdleAction = Literal["none", "stop", "terminate"]

#: Labels every runner carries; GitHub adds the first three by default and workflows ask for them.
BASE_LABELS: tuple[str, ...] = ("self-hosted", "linux", "ARM64")
#: Extra label carried by runners that execute arm64 jobs under QEMU on an x86_64 host.
EMULATED_LABEL = "emulated"
DEFAULT_GITHUB_URL = "https://github.com"


@dataclass(frozen=True)
class GithubTarget:
    """Where runners register: one repository, or an organization (optionally a runner group)."""

    owner: str
    repository: str | None = None
    organization: bool = False
    runner_group: str | None = None
    #: Repositories allowed to use the runner group (org stacks with runnerGroup only).
    group_repositories: tuple[str, ...] = ()
    base_url: str = DEFAULT_GITHUB_URL
    #: Name of an Actions variable that receives the runs-on label list as JSON ("" = none).
    runs_on_variable: str = "ARM64_RUNS_ON"

    @property
    def api_url(self) -> str:
        """REST API root: api.github.com for GitHub.com, <baseUrl>/api/v3 for Enterprise Server."""
        if self.base_url.rstrip("/") == DEFAULT_GITHUB_URL:
            return "https://api.github.com"
        return self.base_url.rstrip("/") + "/api/v3"

    @property
    def registration_url(self) -> str:
        """The `config.sh --url` value."""
        root = self.base_url.rstrip("/")
        if self.organization:
            return f"{root}/{self.owner}"
        return f"{root}/{self.owner}/{self.repository}"

    @property
    def scope_path(self) -> str:
        """REST path prefix of the runner endpoints for this target."""
        if self.organization:
            return f"/orgs/{self.owner}"
        return f"/repos/{self.owner}/{self.repository}"


@dataclass(frozen=True)
class RunnerSettings:
    """How every runner of the stack is installed, registered and supervised."""

    version: str
    #: SHA-256 of actions-runner-linux-arm64-<version>.tar.gz, from components/runner_releases.py.
    sha256: str
    labels: tuple[str, ...] = ()
    name_prefix: str = "arm64"
    ephemeral: bool = False
    idle_timeout_minutes: int = 30
    idle_action: IdleAction = "stop"
    disable_update: bool = False
    download_base_url: str = "https://github.com/actions/runner/releases/download"
    #: Block the instance-metadata endpoint for the runner user and containers after registration.
    block_metadata: bool = True
    #: Prune Docker when free disk space falls under this many GB.
    docker_prune_threshold_gb: int = 10


@dataclass(frozen=True)
class PoolBase:
    name: str
    count: int = 1
    disk_gb: int = 50
    #: Extra labels for this pool only (added after the stack-wide ones).
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class AwsPool(PoolBase):
    cloud: Literal["aws"] = "aws"
    instance_type: str = "t4g.medium"
    spot: bool = False
    #: Pin an AMI by hand; None = resolve Ubuntu 24.04 arm64 once and pin it in state.
    ami: str | None = None


@dataclass(frozen=True)
class EmulatedPool(PoolBase):
    """x86_64 AWS instances that run the arm64 runner in an arm64 userland under QEMU."""

    cloud: Literal["emulated"] = "emulated"
    instance_type: str = "c7a.large"
    spot: bool = False
    ami: str | None = None


@dataclass(frozen=True)
class OciPool(PoolBase):
    cloud: Literal["oci"] = "oci"
    shape: str = "VM.Standard.A1.Flex"
    ocpus: int = 4
    memory_gb: int = 24
    #: 1-based availability-domain indexes, tried in order for A1 capacity.
    availability_domains: tuple[int, ...] = (1, 2, 3)
    #: Pin an image OCID by hand; None = resolve Canonical Ubuntu 24.04 aarch64 once and pin it.
    image_id: str | None = None


Pool = AwsPool | OciPool | EmulatedPool


@dataclass(frozen=True)
class EgressRule:
    protocol: Literal["tcp", "udp"]
    port: int
    cidr: str = "0.0.0.0/0"
    description: str = ""


#: What a runner host needs outbound: HTTPS (GitHub, registries), HTTP (apt), DNS, NTP.
DEFAULT_EGRESS: tuple[EgressRule, ...] = (
    EgressRule("tcp", 443, description="HTTPS: GitHub, container registries, package mirrors"),
    EgressRule("tcp", 80, description="HTTP: OS package mirrors"),
    EgressRule("udp", 53, description="DNS"),
    EgressRule("tcp", 53, description="DNS over TCP"),
    EgressRule("udp", 123, description="NTP"),
)


@dataclass(frozen=True)
class AwsSettings:
    """Stack-wide AWS settings (shared by `aws` and `emulated` pools)."""

    region: str | None = None
    #: Existing network; None = a small dedicated VPC per stack.
    vpc_id: str | None = None
    subnet_ids: tuple[str, ...] = ()
    egress: tuple[EgressRule, ...] = DEFAULT_EGRESS
    #: IMDSv2 hop limit; 1 keeps containers away from instance credentials.
    metadata_hop_limit: int = 1
    ssh_key_name: str | None = None
    #: A queued `workflow_job` starts a stopped runner (wake function + webhook), with idleAction stop.
    wake_on_job: bool = True


@dataclass(frozen=True)
class FreeTierLimits:
    """OCI Always Free Ampere A1 allowance (see components/config/limits.py for the source)."""

    ocpus: int
    memory_gb: int
    block_storage_gb: int


@dataclass(frozen=True)
class OciSettings:
    compartment_id: str
    #: Root compartment for capacity reports and availability-domain lookups (Oracle asks for the
    #: tenancy there); None = use compartment_id.
    tenancy_id: str | None = None
    free_tier: bool = True
    free_tier_limits: FreeTierLimits | None = None
    #: Existing regional subnet; None = a dedicated VCN per stack.
    subnet_id: str | None = None
    #: Opens port 22 from this CIDR only (never 0.0.0.0/0); None = no ingress at all.
    ssh_cidr: str | None = None
    ssh_public_key: str | None = None

    @property
    def capacity_compartment_id(self) -> str:
        return self.tenancy_id or self.compartment_id


@dataclass(frozen=True)
class StackConfig:
    """Everything one stack file says, validated."""

    project: str
    stack: str
    #: Where the stack file lives, for messages (e.g. "stacks/Pulumi.dev.yaml").
    stack_file: str
    github: GithubTarget
    runner: RunnerSettings
    pools: tuple[Pool, ...]
    aws: AwsSettings = field(default_factory=AwsSettings)
    oci: OciSettings | None = None
    #: Hours after which the scheduled destroy workflow tears the stack down (None = never).
    ttl_hours: int | None = None
    #: Share of the month runners are busy, for the cost estimate's idle-action savings.
    utilisation: float = 0.25
    #: The scheduled `pulumi up --refresh` of up.yml reconciles this stack (False: only pushes and dispatches).
    reconcile: bool = True

    @property
    def clouds(self) -> frozenset[str]:
        return frozenset(p.cloud for p in self.pools if p.count > 0)

    def runner_labels(self, pool: Pool) -> tuple[str, ...]:
        """The full label list a runner of `pool` registers with, in order, without duplicates."""
        extra = (EMULATED_LABEL,) if pool.cloud == "emulated" else ()
        labels: list[str] = []
        for label in (*BASE_LABELS, *self.runner.labels, *pool.labels, *extra):
            if label.lower() not in (seen.lower() for seen in labels):
                labels.append(label)
        return tuple(labels)

    def runner_name(self, pool: Pool, index: int) -> str:
        """`{namePrefix}-{stack}-{pool}-{i}`: unique per stack, stable across runs."""
        return f"{self.runner.name_prefix}-{self.stack}-{pool.name}-{index}"

    def runner_names(self, pool: Pool) -> list[str]:
        return [self.runner_name(pool, i) for i in range(pool.count)]
