"""Hostile stack files, one per class of issue 14 (and the messages of issue 15): the regression table.

Each case is the bytes of a whole stack file, the key path its message must name and a word the message
must contain. Used by test_hostile_stacks.py (through tools.plan, as `make plan` runs it) and by
tests/components/config/bench_hostile.py (which times each case in a fresh interpreter).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

VALID: dict[str, Any] = {
    "environment": ["arm64-runners/github"],
    "config": {
        "aws:region": "us-east-1",
        "oci:region": "us-ashburn-1",
        "github:owner": "tzervas",
        "arm64-runners:github": {"repository": "embeddenator"},
        "arm64-runners:runner": {"version": "2.331.0", "labels": ["large"], "idleAction": "stop"},
        "arm64-runners:pools": [
            {"name": "graviton", "cloud": "aws", "count": 1, "instanceType": "t4g.medium", "diskGb": 50},
            {"name": "ampere", "cloud": "oci", "count": 1, "ocpus": 2, "memoryGb": 12, "diskGb": 50},
        ],
        "arm64-runners:oci": {
            "compartmentId": "ocid1.compartment.oc1..aaaaaaaa4n3qbfy5wr7kvtlhqkz4w2wyrxn6lyjsbbxtnhdgsq3pgcmbfkqa"
        },
        "arm64-runners:ttlHours": 72,
    },
}


@dataclass(frozen=True)
class Case:
    id: str
    #: The class of issue 14/15 it stands for.
    cls: str
    data: bytes
    path: str
    word: str


def dump(document: Any) -> bytes:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode()


def edited(change: Callable[[dict[str, Any]], Any]) -> bytes:
    document = copy.deepcopy(VALID)
    change(document["config"])
    return dump(document)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """`pools.0.name` style path inside config (first part with the namespace)."""

    def change(config: dict[str, Any]) -> None:
        parts = path.split(".")
        target: Any = config
        for part in parts[:-1]:
            target = target[int(part)] if isinstance(target, list) else target[part]
        last = parts[-1]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


RUNNER = "arm64-runners:runner"
POOLS = "arm64-runners:pools"
GITHUB = "arm64-runners:github"
OCI = "arm64-runners:oci"
VALID_TEXT = dump(VALID).decode()
_alias_bomb = "\n".join(
    ["config:", "  aws:region: us-east-1", '  a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    + [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
)


def _org(config: dict[str, Any]) -> None:
    config[GITHUB] = {"organization": True, "runnerGroup": "arm64", "groupRepositories": ["embeddenator\n"]}


CASES: tuple[Case, ...] = (
    # --- loader crashes ---------------------------------------------------------------------
    Case("document-not-a-mapping", "loader", b"- config\n- pools\n", "(document)", "mapping"),
    Case("config-not-a-mapping", "loader", b"config: [1, 2]\n", "config", "mapping"),
    Case(
        "environment-a-number",
        "loader",
        VALID_TEXT.replace("environment:\n- arm64-runners/github", "environment: 5").encode(),
        "environment",
        "list",
    ),
    Case(
        "key-an-integer",
        "loader",
        VALID_TEXT.replace("  aws:region:", "  5: x\n  aws:region:").encode(),
        "5",
        "keys must be strings",
    ),
    Case(
        "key-null",
        "loader",
        VALID_TEXT.replace("  aws:region:", "  ~: x\n  aws:region:").encode(),
        "~",
        "keys must be strings",
    ),
    Case(
        "key-a-boolean",
        "loader",
        VALID_TEXT.replace("  aws:region:", "  true: x\n  aws:region:").encode(),
        "true",
        "keys must be strings",
    ),
    Case(
        "not-utf8",
        "loader",
        VALID_TEXT.replace("tzervas", "tzerv\udce9s").encode("utf-8", "surrogateescape"),
        "(file)",
        "UTF-8",
    ),
    Case("utf16", "loader", VALID_TEXT.encode("utf-16"), "(file)", "UTF-16"),
    Case(
        "deep-nesting",
        "loader",
        (VALID_TEXT + "  deep: " + "[" * 1000 + "]" * 1000 + "\n").encode(),
        "deep",
        "nests deeper",
    ),
    Case(
        "int-over-4300-digits",
        "loader",
        VALID_TEXT.replace("ttlHours: 72", "ttlHours: " + "9" * 5000).encode(),
        "arm64-runners:ttlHours",
        "number of 5000 characters",
    ),
    Case(
        "superscript-digit",
        "loader",
        edited(_set("arm64-runners:ttlHours", "²")),
        "arm64-runners:ttlHours",
        "whole number",
    ),
    Case(
        "double-minus",
        "loader",
        edited(_set("arm64-runners:ttlHours", "--5")),
        "arm64-runners:ttlHours",
        "whole number",
    ),
    Case(
        "tag-set",
        "loader",
        VALID_TEXT.replace("ttlHours: 72", "ttlHours: !!set {a, b}").encode(),
        "arm64-runners:ttlHours",
        "!!set",
    ),
    Case(
        "tag-binary",
        "loader",
        VALID_TEXT.replace("ttlHours: 72", "ttlHours: !!binary aGVsbG8=").encode(),
        "arm64-runners:ttlHours",
        "!!binary",
    ),
    Case(
        "tag-python",
        "loader",
        VALID_TEXT.replace("ttlHours: 72", "ttlHours: !!python/name:os.system ''").encode(),
        "arm64-runners:ttlHours",
        "tag",
    ),
    Case(
        "date-value",
        "loader",
        VALID_TEXT.replace("ttlHours: 72", "ttlHours: 2026-01-01").encode(),
        "arm64-runners:ttlHours",
        "whole number",
    ),
    Case(
        "date-in-object",
        "loader",
        VALID_TEXT.replace("version: 2.331.0", "version: 2026-01-01").encode(),
        "arm64-runners:runner.version",
        "pinned runner version",
    ),
    Case("two-documents", "loader", (VALID_TEXT + "---\nconfig: {}\n").encode(), "(file)", "more than one"),
    # --- trailing newlines ------------------------------------------------------------------
    *(
        Case(f"newline-{name}", "trailing-newline", edited(change), path, word)
        for name, change, path, word in (
            ("pool-name", _set(f"{POOLS}.0.name", "graviton\n"), f"{POOLS}[0].name", "lowercase"),
            ("label", _set(f"{RUNNER}.labels", ["large\n"]), f"{RUNNER}.labels[0]", "refused by GitHub"),
            ("name-prefix", _set(f"{RUNNER}.namePrefix", "arm64\n"), f"{RUNNER}.namePrefix", "lowercase"),
            ("owner", _set("github:owner", "tzervas\n"), "github:owner", "GitHub user"),
            ("repository", _set(f"{GITHUB}.repository", "embeddenator\n"), f"{GITHUB}.repository", "repository name"),
            ("region", _set("aws:region", "us-east-1\n"), "aws:region", "AWS region"),
            (
                "instance-type",
                _set(f"{POOLS}.0.instanceType", "t4g.large\n"),
                f"{POOLS}[0].instanceType",
                "instance type",
            ),
            (
                "compartment",
                _set(f"{OCI}.compartmentId", VALID["config"][OCI]["compartmentId"] + "\n"),
                f"{OCI}.compartmentId",
                "OCID",
            ),
            (
                "image-id",
                _set(f"{POOLS}.1.imageId", "ocid1.image.oc1.iad.aaaaaaaahandpickedubuntu2404aarch64\n"),
                f"{POOLS}[1].imageId",
                "OCID",
            ),
            (
                "ssh-key-name",
                lambda c: c.__setitem__("arm64-runners:aws", {"sshKeyName": "admin\n"}),
                "arm64-runners:aws.sshKeyName",
                "key pair",
            ),
            (
                "runs-on-variable",
                _set(f"{GITHUB}.runsOnVariable", "ARM64_RUNS_ON\n"),
                f"{GITHUB}.runsOnVariable",
                "variable name",
            ),
            ("group-repositories", _org, f"{GITHUB}.groupRepositories[0]", "repository name"),
            (
                "runner-group",
                lambda c: c.__setitem__(GITHUB, {"organization": True, "runnerGroup": "arm64\n"}),
                f"{GITHUB}.runnerGroup",
                "runner group",
            ),
        )
    ),
    # --- unbounded numbers ------------------------------------------------------------------
    Case("count-20000", "bounds", edited(_set(f"{POOLS}.0.count", 20000)), f"{POOLS}[0].count", "at most 100"),
    Case(
        "stack-over-runner-cap",
        "bounds",
        edited(lambda c: c[POOLS].extend({"name": f"p{i}", "cloud": "aws", "count": 100} for i in range(3))),
        f"{POOLS}[*].count",
        "runners",
    ),
    Case(
        "idle-timeout-overflow",
        "bounds",
        edited(_set(f"{RUNNER}.idleTimeoutMinutes", 10**19)),
        f"{RUNNER}.idleTimeoutMinutes",
        "at most 10080",
    ),
    Case(
        "ttl-overflow",
        "bounds",
        edited(_set("arm64-runners:ttlHours", 24_000_000_000)),
        "arm64-runners:ttlHours",
        "at most 8760",
    ),
    Case("disk-aws-huge", "bounds", edited(_set(f"{POOLS}.0.diskGb", 10**9)), f"{POOLS}[0].diskGb", "at most 16384"),
    Case("disk-oci-huge", "bounds", edited(_set(f"{POOLS}.1.diskGb", 10**9)), f"{POOLS}[1].diskGb", "at most 32768"),
    Case(
        "prune-threshold-huge",
        "bounds",
        edited(_set(f"{RUNNER}.dockerPruneThresholdGb", 10**9)),
        f"{RUNNER}.dockerPruneThresholdGb",
        "at most",
    ),
    Case(
        "prune-threshold-over-disk",
        "bounds",
        edited(_set(f"{RUNNER}.dockerPruneThresholdGb", 60)),
        f"{RUNNER}.dockerPruneThresholdGb",
        "not below",
    ),
    # --- accepted but wrong -----------------------------------------------------------------
    Case(
        "instance-type-typo-lage",
        "wrong",
        edited(_set(f"{POOLS}.0.instanceType", "t4g.lage")),
        f"{POOLS}[0].instanceType",
        "did you mean 't4g.large'",
    ),
    Case(
        "instance-type-typo-larg",
        "wrong",
        edited(_set(f"{POOLS}.0.instanceType", "c7g.larg")),
        f"{POOLS}[0].instanceType",
        "did you mean 'c7g.large'",
    ),
    Case(
        "region-a-number",
        "wrong",
        VALID_TEXT.replace("aws:region: us-east-1", "aws:region: 5").encode(),
        "aws:region",
        "not an AWS region",
    ),
    Case(
        "region-zero-width-space",
        "wrong",
        edited(_set("aws:region", "\u200bus-east-1")),
        "aws:region",
        "did you mean 'us-east-1'",
    ),
    Case("oci-region-typo", "wrong", edited(_set("oci:region", "us-ashburn-2")), "oci:region", "OCI region"),
    Case(
        "ocid-prefix-only",
        "wrong",
        edited(_set(f"{OCI}.compartmentId", "ocid1.compartment.oc1..x")),
        f"{OCI}.compartmentId",
        "OCID",
    ),
    Case(
        "ocid-wrong-kind",
        "wrong",
        edited(_set(f"{POOLS}.1.imageId", VALID["config"][OCI]["compartmentId"])),
        f"{POOLS}[1].imageId",
        "compartment OCID",
    ),
    Case(
        "base-url-http",
        "wrong",
        edited(_set(f"{GITHUB}.baseUrl", "http://ghe.example.com")),
        f"{GITHUB}.baseUrl",
        "https://",
    ),
    Case(
        "base-url-userinfo",
        "wrong",
        edited(_set(f"{GITHUB}.baseUrl", "https://user:pw@ghe.example.com")),
        f"{GITHUB}.baseUrl",
        "user information",
    ),
    Case(
        "ssh-cidr-half-internet",
        "wrong",
        edited(_set(f"{OCI}.sshCidr", "0.0.0.0/1")),
        f"{OCI}.sshCidr",
        "slice of the internet",
    ),
    Case("ssh-cidr-ipv6-zero", "wrong", edited(_set(f"{OCI}.sshCidr", "0:0::/0")), f"{OCI}.sshCidr", "whole internet"),
    Case(
        "owner-null",
        "wrong",
        VALID_TEXT.replace("github:owner: tzervas", "github:owner: null").encode(),
        "github:owner",
        "null",
    ),
    Case("count-null", "wrong", edited(_set(f"{POOLS}.0.count", None)), f"{POOLS}[0].count", "null"),
    Case(
        "environment-a-string",
        "wrong",
        VALID_TEXT.replace("environment:\n- arm64-runners/github", "environment: arm64-runners/github").encode(),
        "environment",
        "list",
    ),
    Case(
        "duplicate-key",
        "wrong",
        VALID_TEXT.replace("  aws:region: us-east-1\n", "  aws:region: us-east-1\n  aws:region: eu-west-1\n").encode(),
        "aws:region",
        "given twice",
    ),
    Case(
        "duplicate-nested-key",
        "wrong",
        VALID_TEXT.replace("    count: 1\n", "    count: 1\n    count: 3\n", 1).encode(),
        f"{POOLS}[0].count",
        "given twice",
    ),
    Case("alias-bomb", "wrong", _alias_bomb.encode(), "a4[1]", "larger than"),
    Case(
        "label-leading-underscore",
        "wrong",
        edited(_set(f"{RUNNER}.labels", ["_gpu"])),
        f"{RUNNER}.labels[0]",
        "starting with a letter or digit",
    ),
    Case(
        "yaml11-yes",
        "wrong",
        VALID_TEXT.replace("    count: 1\n", "    count: 1\n    spot: yes\n", 1).encode(),
        f"{POOLS}[0].spot",
        "true or false",
    ),
    # --- issue 15 messages ------------------------------------------------------------------
    Case("count-a-string", "messages", edited(_set(f"{POOLS}.0.count", "2")), f"{POOLS}[0].count", "remove the quotes"),
    Case("labels-not-a-list", "messages", edited(_set(f"{RUNNER}.labels", "gpu")), f"{RUNNER}.labels", "labels: [gpu]"),
    Case(
        "repository-with-owner",
        "messages",
        edited(_set(f"{GITHUB}.repository", "acme/widgets")),
        f"{GITHUB}.repository",
        "write repository: widgets",
    ),
)
