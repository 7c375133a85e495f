"""Limits and facts the validation, the renderer and the policy pack rely on, each with its bound and source.

Every number a stack file can set has a bound here with the reason for it; `components/config/rules.py`
turns them (and the patterns below) into the checks every consumer calls.
"""

from __future__ import annotations

import re

from components.config.model import FreeTierLimits

# --- the stack file itself -----------------------------------------------------------------------

#: A stack file is a few kilobytes of settings (the largest example is under 3 KB); 256 KiB leaves room
#: for comments and many pools while keeping a hostile file from costing parse time.
MAX_STACK_FILE_BYTES = 256 * 1024
#: Nesting of the stack file: document > config > key > list > pool > list is 6 levels. PyYAML's composer
#: recurses per level and overflows Python's stack near 330 levels; 32 is far from both.
MAX_YAML_DEPTH = 32
#: Values in the document with aliases expanded each time they are used (an alias bomb of 9 levels
#: expands to ~387 million values). The largest valid stack (MAX_POOLS_PER_STACK pools with every key and
#: GITHUB_MAX_LABELS labels each) has under 4,000.
MAX_YAML_NODES = 20_000
#: Characters of a number literal: no setting needs more than 20 digits, and Python refuses to convert
#: integers over 4,300 digits (sys.int_info.default_max_str_digits).
MAX_YAML_INT_DIGITS = 40

# --- runners per pool and per stack --------------------------------------------------------------

#: Runners in one stack. Planning costs about 0.1 s a runner (measured at 950 runners on a shared 2-core
#: machine: 250 plan in ~25 s), and a scheduled `pulumi up --refresh` asks GitHub once per runner (its
#: registration's read), 250 calls a refresh against GitHub's 5,000 an hour for a token. (Pulumi's own
#: dynamic-provider serializer used to fail near 1,000 dynamic resources in one program; the project's
#: DynamicResource works around it, components/dynamic.py.)
MAX_RUNNERS_PER_STACK = 250
#: Runners in one pool: a pool is one instance type in one place; beyond 100 split it (and EC2's default
#: on-demand vCPU quota of a new account is far lower anyway).
MAX_RUNNERS_PER_POOL = 100
#: Pools in one stack: each pool adds a launch template or image pin, a name in every runner name.
MAX_POOLS_PER_STACK = 20

# --- runner settings -----------------------------------------------------------------------------

#: idle-watchdog.sh compares seconds with $((IDLE_TIMEOUT_MINUTES * 60)) in bash's signed 64-bit
#: arithmetic; a week is the longest idle timeout that still means "stop when idle" (beyond it use
#: idleAction: none). OCI reclaims Always Free instances idle for 7 days anyway.
IDLE_TIMEOUT_MINUTES = (1, 7 * 24 * 60)
#: tools/ops computes last update + ttlHours with datetime (overflows above ~2.4e10 hours); a TTL over a
#: year is not a temporary stack: leave ttlHours unset.
TTL_HOURS = (1, 365 * 24)
#: GitHub's JIT configuration takes 1-100 labels (REST "generate-jitconfig"); a runner gets the same list.
GITHUB_MAX_LABELS = 100

# --- disks ---------------------------------------------------------------------------------------

#: Docker image builds need room: the seed project measured 15-25 GB per multi-arch build.
MIN_DISK_GB = 30
#: EBS gp3 volumes: 1-16,384 GiB (EC2 user guide, "Amazon EBS volume types", checked 2026-11).
EBS_GP3_MAX_GB = 16_384
#: OCI boot volumes: 50 GB minimum, 32 TB maximum (OCI block volume documentation).
OCI_MIN_BOOT_VOLUME_GB = 50
OCI_MAX_BOOT_VOLUME_GB = 32_768
#: Docker prune threshold: at least 1 GB free; it must stay under every pool's disk size, or the prune
#: timer would run on every tick (checked per pool).
DOCKER_PRUNE_THRESHOLD_GB = (1, OCI_MAX_BOOT_VOLUME_GB)

# --- OCI -----------------------------------------------------------------------------------------

#: OCI Always Free Ampere A1 allowance: 3,000 OCPU-hours and 18,000 GB-hours a month (= 4 OCPU and
#: 24 GB running all month) and 200 GB of block storage (boot volumes count). Source: Oracle Cloud
#: "Always Free Resources" documentation, as documented for years up to 2026-11. A cut to 2 OCPU / 12 GB
#: from 2026-06-15 has been reported by third parties but is not confirmed by Oracle; a stack can
#: lower these with `arm64-runners:oci.freeTierLimits` if its tenancy shows lower limits (never raise
#: them: for more, set freeTier: false).
OCI_ALWAYS_FREE_A1 = FreeTierLimits(ocpus=4, memory_gb=24, block_storage_gb=200)

#: Oracle reclaims (stops) Always Free instances idle for 7 days: 95th-percentile CPU, network and
#: memory utilisation all under 20 %. Source: Oracle Cloud "Always Free Resources", idle compute.
OCI_IDLE_RECLAIM_DAYS = 7

#: OCI Ampere shapes this project deploys (the Always Free allowance covers A1 only).
OCI_ARM_SHAPES = frozenset({"VM.Standard.A1.Flex"})
#: VM.Standard.A1.Flex: 1-80 OCPUs, 1-64 GB of memory per OCPU, at most 512 GB (OCI compute shapes
#: documentation, "Flexible shapes").
OCI_A1_GB_PER_OCPU = (1, 64)
OCI_A1_MAX_OCPUS = 80
OCI_A1_MAX_MEMORY_GB = 512
#: Availability domains are numbered 1-3 (single-AD regions have only 1).
OCI_AVAILABILITY_DOMAINS = (1, 3)
#: OCI instance metadata (user_data included) is capped at 32,000 bytes.
OCI_METADATA_MAX_BYTES = 32_000

# --- AWS -----------------------------------------------------------------------------------------

#: EC2 user data: 16 KiB before base64 encoding (EC2 user guide, "instance user data").
EC2_USER_DATA_MAX_BYTES = 16 * 1024
#: IMDSv2 PUT response hop limit: the EC2 API accepts 1-64.
METADATA_HOP_LIMIT = (1, 64)
#: Security group rules per direction: 60 by default (VPC quotas, "Inbound or outbound rules per
#: security group").
MAX_EGRESS_RULES = 60
PORT_RANGE = (1, 65_535)
#: Security group rule descriptions: up to 255 of these characters (EC2 API, IpRange.Description).
SG_DESCRIPTION_PATTERN = re.compile(r"[A-Za-z0-9. _\-:/()#,@\[\]+=&;{}!$*]{0,255}\Z")
#: A CIDR opened to SSH must name a range, not a slice of the internet: at least /16 for IPv4 (65,536
#: addresses) and /48 for IPv6 (one site's allocation). `0.0.0.0/1` is half the internet.
MIN_SSH_PREFIX = {4: 16, 6: 48}

# --- EC2 architecture (the catalog in components/config/catalog.py says which types exist) -------

_EC2_TYPE = re.compile(r"(?P<family>(?P<cls>[a-z]+)(?P<gen>\d+)(?P<attr>[a-z-]*))\.(?P<size>[0-9a-z-]+)\Z")


def ec2_family(instance_type: str) -> str | None:
    """`m7g.large` -> `m7g`; None when the string is not shaped like an EC2 instance type."""
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


# --- names and patterns (anchored with \Z: `$` also matches before a final newline) -------------

#: GitHub runner labels: at most 256 characters, letters, digits and `-_.`; no commas (config.sh splits
#: on commas) and no whitespace. Source: GitHub docs, "Using labels with self-hosted runners". Here they
#: also start with a letter or digit: one rule for validation and rendering (the renderer always asked
#: for it), and a leading '.' or '_' buys nothing.
LABEL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,255}\Z")
#: Runner names go to config.sh --name and GitHub's runner list: at most 64 characters here, so names
#: stay readable in GitHub's UI and fit EC2's Name tag and OCI's display name.
RUNNER_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
POOL_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,23}\Z")
NAME_PREFIX_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,19}\Z")
#: GitHub user/organization names: up to 39 letters, digits and hyphens, starting with a letter or digit.
GITHUB_OWNER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}\Z")
#: Repository names: 1-100 letters, digits, `.`, `_`, `-` (GitHub refuses `.` and `..`).
GITHUB_REPOSITORY_PATTERN = re.compile(r"(?!\.{1,2}\Z)[A-Za-z0-9._-]{1,100}\Z")
#: Runner group names (config.sh --runnergroup, the REST API's `name`): here up to 80 letters, digits,
#: spaces, `.`, `_`, `-`; no newline, comma or control character reaches runner.env.
RUNNER_GROUP_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,79}\Z")
#: Actions variable names: letters, digits and `_`, not starting with a digit or GITHUB_ (GitHub docs,
#: "Naming conventions for configuration variables").
ACTIONS_VARIABLE_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}\Z")
RUNNER_VERSION_PATTERN = re.compile(r"[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}\Z")
AMI_PATTERN = re.compile(r"ami-[0-9a-f]{8,17}\Z")
VPC_PATTERN = re.compile(r"vpc-[0-9a-f]{8,17}\Z")
SUBNET_PATTERN = re.compile(r"subnet-[0-9a-f]{8,17}\Z")
#: EC2 key pair names: up to 255 ASCII characters; printable, no leading/trailing space here.
EC2_KEY_NAME_PATTERN = re.compile(r"[A-Za-z0-9._@+=,:/-](?:[ -~]{0,253}[!-~])?\Z")
#: Pulumi ESC environment names: `[project/]env[@version]` of letters, digits, `.`, `_`, `-`.
ESC_ENVIRONMENT_PATTERN = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*){0,2}(@[A-Za-z0-9._-]+)?\Z"
)
#: OCIDs: `ocid1.<resource type>.<realm>.[region][.future use].<unique id>` (OCI docs, "Resource
#: Identifiers"). Tenancies and compartments have no region; the unique id is lowercase base32 (60
#: characters in Oracle's examples; the format "may vary", so 20-128 are accepted).
OCID_PATTERN = re.compile(
    r"ocid1\.(?P<kind>[a-z0-9]+)\.(?P<realm>oc[0-9]{1,3})\.(?P<region>[a-z0-9-]{0,32})"
    r"(?:\.[a-z0-9-]{1,32})?\.(?P<unique>[a-z0-9]{20,128})\Z"
)
#: OpenSSH public keys for OCI instances: type, base64 blob, optional comment; one line.
SSH_PUBLIC_KEY_PATTERN = re.compile(
    r"(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]{40,}={0,3}( [ -~]{1,200})?\Z"
)
