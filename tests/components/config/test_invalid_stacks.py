"""Bad stack files are refused before any resource is registered, naming the file and the key path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tools import plan
from tools.mockengine import run_stack

BASE: dict[str, Any] = {
    "aws:region": "us-east-1",
    "github:owner": "tzervas",
    "github:token": {"secure": "v1:abc"},
    "arm64-runners:github": {"repository": "embeddenator"},
    "arm64-runners:runner": {"version": "2.331.0", "labels": ["large"], "idleAction": "stop"},
    "arm64-runners:pools": [
        {"name": "graviton", "cloud": "aws", "count": 1, "instanceType": "t4g.medium", "diskGb": 50},
    ],
}
OCI = {"compartmentId": "ocid1.compartment.oc1..aaaaaaaa4n3qbfy5wr7kvtlhqkz4w2wyrxn6lyjsbbxtnhdgsq3pgcmbfkqa"}


def oci_pool(**overrides: Any) -> dict[str, Any]:
    pool = {"name": "ampere", "cloud": "oci", "count": 1, "ocpus": 2, "memoryGb": 12, "diskGb": 50}
    pool.update(overrides)
    return pool


def edit(fn: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    config = copy.deepcopy(BASE)
    fn(config)
    return config


def pool0(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda c: c["arm64-runners:pools"][0].update(changes)


def runner(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda c: c["arm64-runners:runner"].update(changes)


def github(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda c: c["arm64-runners:github"].update(changes)


def set_key(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda c: c.__setitem__(key, value)


def drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda c: c.pop(key)


def add_oci(*pools: dict[str, Any], oci: dict[str, Any] | None = None) -> Callable[[dict[str, Any]], None]:
    def apply(c: dict[str, Any]) -> None:
        c["arm64-runners:pools"].extend(pools)
        c["arm64-runners:oci"] = oci if oci is not None else dict(OCI)

    return apply


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    # id, edit, key path that must be named, a word the message must contain
    ("unknown-top-key", set_key("arm64-runners:pool", []), "arm64-runners:pool", "did you mean 'pools'"),
    ("unknown-runner-key", runner(lables=["x"]), "arm64-runners:runner.lables", "did you mean 'labels'"),
    ("unknown-pool-key", pool0(instanceTyp="t4g.large"), "arm64-runners:pools[0].instanceTyp", "instanceType"),
    ("unknown-namespace", set_key("arm64runners:pools", []), "arm64runners:pools", "namespace"),
    ("count-wrong-type", pool0(count="two"), "arm64-runners:pools[0].count", "whole number"),
    ("spot-wrong-type", pool0(spot="yes"), "arm64-runners:pools[0].spot", "true or false"),
    ("labels-not-list", runner(labels="large"), "arm64-runners:runner.labels", "list"),
    ("missing-owner", drop("github:owner"), "github:owner", "required"),
    ("missing-token", drop("github:token"), "github:token", "required"),
    ("plaintext-token", set_key("github:token", "ghp_plaintext"), "github:token", "plaintext"),
    ("missing-version", lambda c: c["arm64-runners:runner"].pop("version"), "arm64-runners:runner.version", "required"),
    ("missing-pools", drop("arm64-runners:pools"), "arm64-runners:pools", "required"),
    (
        "missing-repository",
        lambda c: c["arm64-runners:github"].pop("repository"),
        "arm64-runners:github.repository",
        "organization",
    ),
    ("x86-in-aws-pool", pool0(instanceType="m5.large"), "arm64-runners:pools[0].instanceType", "Graviton"),
    (
        "arm-in-emulated-pool",
        pool0(cloud="emulated", instanceType="t4g.large"),
        "arm64-runners:pools[0].instanceType",
        "x86_64",
    ),
    ("not-an-instance-type", pool0(instanceType="large"), "arm64-runners:pools[0].instanceType", "EC2"),
    ("x86-oci-shape", add_oci(oci_pool(shape="VM.Standard.E4.Flex")), "arm64-runners:pools[1].shape", "ARM64"),
    ("negative-count", pool0(count=-1), "arm64-runners:pools[0].count", "at least 0"),
    ("disk-too-small", pool0(diskGb=8), "arm64-runners:pools[0].diskGb", "at least 30"),
    ("oci-boot-volume-too-small", add_oci(oci_pool(diskGb=40)), "arm64-runners:pools[1].diskGb", "at least 50"),
    ("malformed-version", runner(version="v2.331"), "arm64-runners:runner.version", "pinned runner version"),
    ("unpinned-version", runner(version="2.999.0"), "arm64-runners:runner.version", "SHA-256"),
    ("latest-version", runner(version="latest"), "arm64-runners:runner.version", "pinned"),
    ("label-with-comma", runner(labels=["large,fast"]), "arm64-runners:runner.labels[0]", "refused by GitHub"),
    ("label-with-space", pool0(labels=["big box"]), "arm64-runners:pools[0].labels[0]", "refused by GitHub"),
    (
        "duplicate-pool-names",
        lambda c: c["arm64-runners:pools"].append(dict(c["arm64-runners:pools"][0])),
        "arm64-runners:pools[1].name",
        "already used",
    ),
    ("org-key-on-repo-stack", github(runnerGroup="arm64"), "arm64-runners:github.runnerGroup", "organization-only"),
    ("repo-and-org", github(organization=True), "arm64-runners:github.organization", "exclude"),
    ("unknown-cloud", pool0(cloud="gcp"), "arm64-runners:pools[0].cloud", "aws, oci, emulated"),
    ("unknown-idle-action", runner(idleAction="hibernate"), "arm64-runners:runner.idleAction", "none, stop, terminate"),
    (
        "free-tier-ocpus",
        add_oci(oci_pool(count=3, ocpus=2, memoryGb=6)),
        "arm64-runners:pools[*].ocpus",
        "Always Free allows 4",
    ),
    (
        "free-tier-memory-across-pools",
        add_oci(oci_pool(ocpus=1, memoryGb=16), oci_pool(name="ampere2", ocpus=1, memoryGb=16)),
        "arm64-runners:pools[*].memoryGb",
        "Always Free allows 24",
    ),
    (
        "free-tier-override-lower",
        add_oci(oci_pool(ocpus=4, memoryGb=24), oci={**OCI, "freeTierLimits": {"ocpus": 2, "memoryGb": 12}}),
        "arm64-runners:pools[*].ocpus",
        "Always Free allows 2",
    ),
    ("oci-memory-ratio", add_oci(oci_pool(ocpus=1, memoryGb=96)), "arm64-runners:pools[1].memoryGb", "GB per OCPU"),
    ("oci-without-compartment", lambda c: c["arm64-runners:pools"].append(oci_pool()), "arm64-runners:oci", "required"),
    (
        "oci-terminate",
        lambda c: (add_oci(oci_pool())(c), runner(idleAction="terminate")(c)),
        "arm64-runners:runner.idleAction",
        "OCI",
    ),
    (
        "spot-terminate",
        lambda c: (pool0(spot=True)(c), runner(idleAction="terminate")(c)),
        "arm64-runners:pools[0].spot",
        "terminate",
    ),
    (
        "ssh-open-to-world",
        add_oci(oci_pool(), oci={**OCI, "sshCidr": "0.0.0.0/0"}),
        "arm64-runners:oci.sshCidr",
        "whole internet",
    ),
    ("aws-without-region", drop("aws:region"), "aws:region", "required"),
    ("bad-pool-name", pool0(name="Graviton_Pool"), "arm64-runners:pools[0].name", "lowercase"),
    ("bad-ami", pool0(ami="ubuntu-24.04"), "arm64-runners:pools[0].ami", "AMI id"),
    (
        "vpc-without-subnets",
        set_key("arm64-runners:aws", {"vpcId": "vpc-0123456789abcdef0"}),
        "arm64-runners:aws.subnetIds",
        "go together",
    ),
    ("idle-timeout-zero", runner(idleTimeoutMinutes=0), "arm64-runners:runner.idleTimeoutMinutes", "at least 1"),
    ("pools-not-a-list", set_key("arm64-runners:pools", {"name": "graviton"}), "arm64-runners:pools", "list"),
]


@pytest.mark.parametrize(("case", "change", "path", "word"), CASES, ids=[c[0] for c in CASES])
def test_invalid_stack_is_refused_before_any_resource(case, change, path, word):
    config = edit(change)
    result = run_stack("dev", config)
    assert result.error is not None, f"{case}: the stack was accepted"
    assert result.resources == [], "resources were registered before validation finished"
    messages = [p.render(result.error.stack_file) for p in result.error.problems]
    matching = [m for m in messages if m.startswith(f"stacks/Pulumi.dev.yaml: {path}:")]
    assert matching, f"no problem names {path}; got:\n" + "\n".join(messages)
    assert any(word in m for m in matching), f"{path} message lacks {word!r}: {matching}"


@pytest.mark.parametrize("case", ["x86-in-aws-pool", "unknown-runner-key", "free-tier-ocpus"])
def test_plan_exits_2_with_messages_and_no_traceback(case, tmp_path, capsys):
    change, path = next((c[1], c[2]) for c in CASES if c[0] == case)
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(yaml.safe_dump({"config": edit(change)}))
    assert plan.main(["--stack-file", str(stack_file)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err
    assert str(stack_file) in err or "Pulumi.dev.yaml" in err
    assert "Traceback" not in err


def test_all_problems_are_reported_at_once():
    config = edit(lambda c: (pool0(instanceType="m5.large", count=-2)(c), runner(idleAction="x")(c)))
    result = run_stack("dev", config)
    paths = {p.path for p in result.error.problems}
    assert {
        "arm64-runners:pools[0].instanceType",
        "arm64-runners:pools[0].count",
        "arm64-runners:runner.idleAction",
    } <= paths


def test_every_problem_carries_a_hint_or_the_allowed_values():
    result = run_stack("dev", edit(lambda c: (pool0(instanceType="m5.large")(c), runner(lables=[])(c))))
    for problem in result.error.problems:
        assert problem.hint or "allowed values" in problem.message, problem
