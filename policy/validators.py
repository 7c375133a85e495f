"""The arm64-runners policy rules, as plain functions the tests call directly.

Each resource rule is `check(resource_type, props, config) -> list[str]` (one message per violation) and
is wrapped by `resource_validator` into pulumi-policy's `fn(args, report_violation)` shape. Property
names are the engine's (camelCase, e.g. `metadataOptions.httpTokens`). Building the `PolicyPack` lives
in `policy/__main__.py`, because constructing it starts the analyzer server and blocks.

Secretness is not visible here: pulumi-policy hands validators plain values (it keeps secret markers
only for remediations). The user-data rule therefore checks what a validator can see: that no credential
sits in the rendered user-data and that it fits the cloud's size limit.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from components.config import limits, rules
from components.tags import MANAGED_BY, TAG_CLOUD, TAG_IDLE_ACTION, TAG_MANAGED_BY, TAG_POOL, TAG_STACK

Props = Mapping[str, Any]
Check = Callable[[str, Props, Mapping[str, Any]], list[str]]

AWS_INSTANCE = "aws:ec2/instance:Instance"
AWS_SPOT_REQUEST = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
AWS_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
AWS_VOLUME = "aws:ebs/volume:Volume"
AWS_SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
AWS_DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
AWS_SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
AWS_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
OCI_INSTANCE = "oci:Core/instance:Instance"
OCI_SECURITY_LIST = "oci:Core/securityList:SecurityList"
OCI_DEFAULT_SECURITY_LIST = "oci:Core/defaultSecurityList:DefaultSecurityList"
OCI_NSG_RULE = "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule"

AWS_COMPUTE = (AWS_INSTANCE, AWS_SPOT_REQUEST, AWS_LAUNCH_TEMPLATE)
COMPUTE = (*AWS_COMPUTE, OCI_INSTANCE)

#: AWS tags every runner instance carries; OCI freeform tags are the same without `Name`
#: (OCI shows `displayName` instead).
REQUIRED_AWS_TAGS = ("Name", TAG_STACK, TAG_POOL, TAG_MANAGED_BY)
REQUIRED_OCI_TAGS = (TAG_STACK, TAG_POOL, TAG_MANAGED_BY)

#: Credentials that must never appear in user-data. GitHub token prefixes are documented by GitHub
#: ("About authentication to GitHub", token formats); registration tokens are 29 upper-case
#: alphanumerics; AWS access key ids start with AKIA/ASIA.
CREDENTIAL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "a GitHub token",
        re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b"),
    ),
    ("a runner registration token", re.compile(r"\bA[A-Z0-9]{28}\b")),
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a JIT runner config", re.compile(r"--jitconfig\s+[A-Za-z0-9+/=]{40,}")),
)


# --- helpers -------------------------------------------------------------------------------------


def _tags(resource_type: str, props: Props) -> Mapping[str, str]:
    if resource_type == OCI_INSTANCE:
        return props.get("freeformTags") or {}
    return props.get("tags") or {}


def is_emulated(resource_type: str, props: Props) -> bool:
    """Emulated pools are x86_64 hosts by design; they say so with the `arm64-runners:cloud` tag."""
    return _tags(resource_type, props).get(TAG_CLOUD) == "emulated"


def _decode_base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _readable(data: bytes) -> str:
    """User-data as the instance sees it: gzip is undone (EC2 and cloud-init accept both)."""
    if data[:2] == b"\x1f\x8b":
        with contextlib.suppress(OSError, EOFError):
            data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


#: cloud-init's write_files encodings: base64, optionally of gzip (cc_write_files).
_BASE64_ENCODINGS = ("b64", "base64", "gz+b64", "gzip+base64", "gz+base64", "gzip+b64")


def _encoded_contents(text: str) -> list[str]:
    """The decoded content of every base64-encoded write_files entry of a #cloud-config (the renderer
    ships its scripts as one such archive): a credential must not hide from the scan there."""
    if not text.startswith("#cloud-config"):
        return []
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    entries = document.get("write_files") if isinstance(document, dict) else None
    decoded = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or str(entry.get("encoding", "")).lower() not in _BASE64_ENCODINGS:
            continue
        data = _decode_base64("".join(str(entry.get("content", "")).split()))
        if data is not None:
            decoded.append(_readable(data))  # gzip undone; a tar's members are plain bytes in it
    return decoded


def user_data_bytes(resource_type: str, props: Props) -> bytes | None:
    """The user-data payload as delivered to the instance (after base64, before gunzip), or None."""
    if resource_type in (AWS_INSTANCE, AWS_SPOT_REQUEST):
        if props.get("userDataBase64"):
            return _decode_base64(props["userDataBase64"]) or props["userDataBase64"].encode()
        if props.get("userData"):
            return str(props["userData"]).encode()
        return None
    if resource_type == AWS_LAUNCH_TEMPLATE:
        raw = props.get("userData")
        return (_decode_base64(raw) or raw.encode()) if raw else None
    if resource_type == OCI_INSTANCE:
        raw = (props.get("metadata") or {}).get("user_data")
        return (_decode_base64(raw) or raw.encode()) if raw else None
    return None


def _instance_type(resource_type: str, props: Props) -> str | None:
    return props.get("shape") if resource_type == OCI_INSTANCE else props.get("instanceType")


def inherits(resource_type: str, props: Props, key: str) -> bool:
    """True when an instance leaves `key` to its launch template; the template is checked instead
    (it is a resource of the same stack, validated by the same rule)."""
    return (
        resource_type in (AWS_INSTANCE, AWS_SPOT_REQUEST) and bool(props.get("launchTemplate")) and not props.get(key)
    )


def _is_spot(resource_type: str, props: Props) -> bool:
    if resource_type == AWS_SPOT_REQUEST:
        return True
    market = props.get("instanceMarketOptions") or {}
    return market.get("marketType") == "spot"


# --- mandatory resource rules --------------------------------------------------------------------


def check_arm64_compute(resource_type: str, props: Props, config: Mapping[str, Any]) -> list[str]:
    """Runner hosts are arm64 (Graviton, Ampere A1); only emulated pools run on x86_64 on purpose."""
    if resource_type not in COMPUTE or inherits(resource_type, props, "instanceType"):
        return []
    kind = _instance_type(resource_type, props)
    if kind is None:
        return []  # a launch template may leave the type to the instance
    if resource_type == OCI_INSTANCE:
        if kind in limits.OCI_ARM_SHAPES:
            return []
        return [f"shape {kind} is not an Ampere shape ({', '.join(sorted(limits.OCI_ARM_SHAPES))})"]
    if is_emulated(resource_type, props):
        if limits.is_x86_64(kind):
            return []
        return [f"emulated pool on {kind}: emulated pools are x86_64 hosts (for arm64 use cloud: aws)"]
    if limits.is_graviton(kind):
        return []
    hint = f"use a *g family (t4g, m7g, c7g...) or tag an emulated pool {TAG_CLOUD}=emulated"
    return [f"instance type {kind} is not Graviton (arm64): {hint}"]


def check_imdsv2(resource_type: str, props: Props, config: Mapping[str, Any]) -> list[str]:
    """Instance metadata only through session tokens (AWS IMDSv2; OCI legacy v1 endpoints off)."""
    if resource_type in AWS_COMPUTE:
        if inherits(resource_type, props, "metadataOptions"):
            return []
        tokens = (props.get("metadataOptions") or {}).get("httpTokens")
        if tokens != "required":
            return [f"metadataOptions.httpTokens is {tokens or 'unset (optional)'}; IMDSv2 needs 'required'"]
        return []
    if resource_type == OCI_INSTANCE:
        disabled = (props.get("instanceOptions") or {}).get("areLegacyImdsEndpointsDisabled")
        if disabled is not True:
            return ["instanceOptions.areLegacyImdsEndpointsDisabled must be true (IMDS v2 only)"]
    return []


def check_encrypted_volumes(resource_type: str, props: Props, config: Mapping[str, Any]) -> list[str]:
    """EBS volumes are encrypted (EC2 defaults to unencrypted). OCI block volumes are always encrypted
    at rest by Oracle, so there is nothing to check there."""
    problems: list[str] = []
    if resource_type in (AWS_INSTANCE, AWS_SPOT_REQUEST):
        root = props.get("rootBlockDevice")
        if inherits(resource_type, props, "rootBlockDevice"):
            pass
        elif not root or root.get("encrypted") is not True:
            problems.append("rootBlockDevice.encrypted must be true")
        for i, device in enumerate(props.get("ebsBlockDevices") or []):
            if device.get("encrypted") is not True:
                problems.append(f"ebsBlockDevices[{i}].encrypted must be true")
    elif resource_type == AWS_LAUNCH_TEMPLATE:
        mappings = props.get("blockDeviceMappings") or []
        if not mappings:
            problems.append("blockDeviceMappings must declare the root volume with ebs.encrypted=true")
        for i, mapping in enumerate(mappings):
            if (mapping.get("ebs") or {}).get("encrypted") not in (True, "true"):
                problems.append(f"blockDeviceMappings[{i}].ebs.encrypted must be true")
    elif resource_type == AWS_VOLUME and props.get("encrypted") is not True:
        problems.append("encrypted must be true")
    return problems


def _open_cidrs(values: Iterable[str] | None) -> list[str]:
    """Sources wider than the config's minimum prefix, compared as networks (components.config.rules):
    `0.0.0.0/1`, `::/1` and `0:0::/0` are caught, not only the strings `0.0.0.0/0` and `::/0`."""
    found = set()
    for value in values or ():
        if isinstance(value, str) and rules.open_ingress_problem(value):
            net = rules.network(value)
            found.add(value if net is None or net.prefixlen == 0 else f"{value} ({net.num_addresses:,} addresses)")
    return sorted(found)


def check_no_open_ingress(resource_type: str, props: Props, config: Mapping[str, Any]) -> list[str]:
    """Runners only dial out; nothing may be reachable from the whole internet."""
    found: list[str] = []
    if resource_type in (AWS_SECURITY_GROUP, AWS_DEFAULT_SECURITY_GROUP):
        for i, rule in enumerate(props.get("ingress") or []):
            cidrs = _open_cidrs([*(rule.get("cidrBlocks") or []), *(rule.get("ipv6CidrBlocks") or [])])
            found += [f"ingress[{i}] allows {c}" for c in cidrs]
    elif resource_type == AWS_SECURITY_GROUP_RULE and props.get("type") == "ingress":
        cidrs = _open_cidrs([*(props.get("cidrBlocks") or []), *(props.get("ipv6CidrBlocks") or [])])
        found += [f"ingress rule allows {c}" for c in cidrs]
    elif resource_type == AWS_INGRESS_RULE:
        cidrs = _open_cidrs([props.get("cidrIpv4") or "", props.get("cidrIpv6") or ""])
        found += [f"ingress rule allows {c}" for c in cidrs]
    elif resource_type in (OCI_SECURITY_LIST, OCI_DEFAULT_SECURITY_LIST):
        for i, rule in enumerate(props.get("ingressSecurityRules") or []):
            found += [f"ingressSecurityRules[{i}] allows {c}" for c in _open_cidrs([rule.get("source") or ""])]
    elif resource_type == OCI_NSG_RULE and props.get("direction") == "INGRESS":
        found += [f"ingress rule allows {c}" for c in _open_cidrs([props.get("source") or ""])]
    return found


def check_user_data(resource_type: str, props: Props, config: Mapping[str, Any]) -> list[str]:
    """User-data holds no credential and fits the cloud's limit (EC2 16 KiB, OCI metadata 32,000 B)."""
    if resource_type not in COMPUTE:
        return []
    problems: list[str] = []
    payload = user_data_bytes(resource_type, props)
    if resource_type == OCI_INSTANCE:
        metadata = {
            **(props.get("metadata") or {}),
            **(props.get("extendedMetadata") or {}),
        }
        size = len(json.dumps(metadata, separators=(",", ":")).encode())
        if size > limits.OCI_METADATA_MAX_BYTES:
            problems.append(f"metadata is {size} bytes; OCI allows {limits.OCI_METADATA_MAX_BYTES}")
    elif payload is not None and len(payload) > limits.EC2_USER_DATA_MAX_BYTES:
        problems.append(
            f"user data is {len(payload)} bytes; EC2 allows {limits.EC2_USER_DATA_MAX_BYTES} "
            "(gzip it into userDataBase64)"
        )
    if payload is not None:
        readable = _readable(payload)
        text = "\n".join([readable, *_encoded_contents(readable)])
        problems += [f"user data contains {what}" for what, pattern in CREDENTIAL_PATTERNS if pattern.search(text)]
    return problems


def check_required_tags(resource_type: str, props: Props, config: Mapping[str, Any]) -> list[str]:
    """Every runner host says which stack and pool it belongs to, so status/gc and billing find it."""
    if resource_type not in COMPUTE:
        return []
    required = REQUIRED_OCI_TAGS if resource_type == OCI_INSTANCE else REQUIRED_AWS_TAGS
    tags = _tags(resource_type, props)
    missing = [key for key in required if not tags.get(key)]
    problems = [f"missing tag {key}" for key in missing]
    if tags.get(TAG_MANAGED_BY) and tags[TAG_MANAGED_BY] != MANAGED_BY:
        problems.append(f"tag {TAG_MANAGED_BY} is {tags[TAG_MANAGED_BY]!r}, expected {MANAGED_BY!r}")
    return problems


# --- advisory rules ------------------------------------------------------------------------------


AWS_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
AWS_POLICY = "aws:iam/policy:Policy"
#: The condition that keeps an instance-starting role to its own stack's runners.
STACK_TAG_CONDITION_KEYS = (f"aws:ResourceTag/{TAG_STACK}", f"ec2:ResourceTag/{TAG_STACK}")
#: Parameter Store actions that read, write or delete a value: only on the project's own parameters.
PARAMETER_VALUE_ACTIONS = (
    "ssm:getparameter",
    "ssm:getparameters",
    "ssm:getparametersbypath",
    "ssm:getparameterhistory",
    "ssm:putparameter",
    "ssm:deleteparameter",
    "ssm:deleteparameters",
)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _grants(action: str, actions: Iterable[str]) -> bool:
    """Whether an IAM action list allows `action` (exactly, or through `*` / `service:*` / a prefix)."""
    wanted = action.lower()
    return any(re.fullmatch(re.escape(str(a).lower()).replace(r"\*", ".*"), wanted) for a in actions)


def check_scoped_iam(resource_type: str, props: Props, config: Mapping[str, Any]) -> list[str]:
    """The project's inline and managed IAM policies: no `*` action; instances started only with the stack
    tag condition; parameter values only under `/arm64-runners…` paths."""
    if resource_type not in (AWS_ROLE_POLICY, AWS_POLICY) or not isinstance(props.get("policy"), str):
        return []
    try:
        document = json.loads(props["policy"])
    except ValueError:
        return ["policy is not a JSON document"]
    messages: list[str] = []
    for statement in _as_list(document.get("Statement", [])):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in _as_list(statement.get("Action", []))]
        resources = [str(r) for r in _as_list(statement.get("Resource", []))]
        where = f"statement {statement.get('Sid') or actions}"
        if any(a == "*" or a.endswith(":*") for a in actions):
            messages.append(f"{where}: allows every action of a service ({actions}); name the actions")
        if _grants("ec2:StartInstances", actions):
            conditions = statement.get("Condition") or {}
            keys = {k for block in conditions.values() if isinstance(block, Mapping) for k in block}
            if not keys & set(STACK_TAG_CONDITION_KEYS):
                messages.append(
                    f"{where}: ec2:StartInstances without a {STACK_TAG_CONDITION_KEYS[0]} condition "
                    "starts any instance of the account; scope it to the stack's runners"
                )
        if any(_grants(a, actions) for a in PARAMETER_VALUE_ACTIONS):
            wide = [r for r in resources if not re.search(r":parameter/arm64-runners[^*]*/", r)]
            if wide:
                messages.append(f"{where}: parameter values readable or writable beyond the project's paths: {wide}")
    return messages


def check_spot_or_idle_stop(resource_type: str, props: Props, config: Mapping[str, Any]) -> list[str]:
    """Paid AWS hosts should be spot or power off when idle (tag arm64-runners:idle-action)."""
    if resource_type not in AWS_COMPUTE or inherits(resource_type, props, "instanceMarketOptions"):
        return []
    if _is_spot(resource_type, props):
        return []
    if _tags(resource_type, props).get(TAG_IDLE_ACTION) in ("stop", "terminate"):
        return []
    return ["on-demand and never idle-stopped: set spot: true or runner.idleAction stop/terminate"]


@dataclass(frozen=True)
class FreeTierUse:
    ocpus: float = 0.0
    memory_gb: float = 0.0
    block_storage_gb: float = 0.0


#: OCI's default boot volume when sourceDetails.bootVolumeSizeInGbs is not given.
OCI_DEFAULT_BOOT_VOLUME_GB = 50


def free_tier_use(resources: Sequence[tuple[str, Props]]) -> FreeTierUse:
    """OCI A1 OCPUs, memory and boot-volume storage the stack's instances take."""
    ocpus = memory = storage = 0.0
    for resource_type, props in resources:
        if resource_type != OCI_INSTANCE or props.get("shape") not in limits.OCI_ARM_SHAPES:
            continue
        shape = props.get("shapeConfig") or {}
        ocpus += float(shape.get("ocpus") or 0)
        memory += float(shape.get("memoryInGbs") or 0)
        source = props.get("sourceDetails") or {}
        storage += float(source.get("bootVolumeSizeInGbs") or OCI_DEFAULT_BOOT_VOLUME_GB)
    return FreeTierUse(ocpus, memory, storage)


def check_free_tier(resources: Sequence[tuple[str, Props]], config: Mapping[str, Any]) -> list[str]:
    """The stack's A1 instances stay inside OCI Always Free (defaults from components/config/limits.py,
    overridable with policy config `ocpus`, `memoryGb`, `blockStorageGb`)."""
    default = limits.OCI_ALWAYS_FREE_A1
    allowed = FreeTierUse(
        float(config.get("ocpus", default.ocpus)),
        float(config.get("memoryGb", default.memory_gb)),
        float(config.get("blockStorageGb", default.block_storage_gb)),
    )
    used = free_tier_use(resources)
    problems = []
    for label, use, cap in (
        ("OCPUs", used.ocpus, allowed.ocpus),
        ("GB of memory", used.memory_gb, allowed.memory_gb),
        ("GB of block storage", used.block_storage_gb, allowed.block_storage_gb),
    ):
        if use > cap:
            problems.append(f"A1 instances use {use:g} {label}; Always Free covers {cap:g}")
    return problems


# --- adapters to pulumi-policy -------------------------------------------------------------------


def resource_validator(check: Check) -> Callable[[Any, Callable[..., None]], None]:
    """`check` as a pulumi-policy ResourceValidation: one report per message."""

    def validate(args: Any, report_violation: Callable[..., None]) -> None:
        for message in check(args.resource_type, args.props, args.get_config()):
            report_violation(message)

    validate.__doc__ = check.__doc__
    return validate


def stack_validator(args: Any, report_violation: Callable[..., None]) -> None:
    """pulumi-policy StackValidation for the free-tier totals."""
    resources = [(r.resource_type, r.props) for r in args.resources]
    for message in check_free_tier(resources, args.get_config()):
        report_violation(message)


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Check
    mandatory: bool


RESOURCE_RULES: tuple[Rule, ...] = (
    Rule(
        "arm64-instance-types",
        "Runner hosts are arm64; x86_64 only for emulated pools.",
        check_arm64_compute,
        True,
    ),
    Rule(
        "imdsv2-required",
        "Instance metadata requires session tokens (IMDSv2).",
        check_imdsv2,
        True,
    ),
    Rule(
        "encrypted-volumes",
        "Block volumes are encrypted.",
        check_encrypted_volumes,
        True,
    ),
    Rule(
        "no-open-ingress",
        f"No ingress from 0.0.0.0/0, ::/0 or any range wider than /{limits.MIN_SSH_PREFIX[4]} (IPv4) "
        f"or /{limits.MIN_SSH_PREFIX[6]} (IPv6).",
        check_no_open_ingress,
        True,
    ),
    Rule(
        "user-data-safe",
        "User-data holds no credential and fits the cloud's size limit.",
        check_user_data,
        True,
    ),
    Rule(
        "required-tags",
        "Runner hosts carry the stack, pool and managed-by tags.",
        check_required_tags,
        True,
    ),
    Rule(
        "iam-least-privilege",
        "IAM policies name their actions, start only the stack's tagged instances and touch only the "
        "project's parameters.",
        check_scoped_iam,
        True,
    ),
    Rule(
        "spot-or-idle-stop",
        "Paid hosts are spot or stop when idle.",
        check_spot_or_idle_stop,
        False,
    ),
)
FREE_TIER_RULE_NAME = "oci-free-tier-totals"
