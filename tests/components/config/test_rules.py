"""Each rule is written once and every consumer agrees with it: validation, rendering, the OCI component,
the caps in limits.py."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from components import bootstrap
from components.config import catalog, limits, rules
from components.config.model import OciPool
from components.oci.checks import OciPoolError, check_pool
from components.runner_releases import ARM64_SHA256
from tests.components.test_bootstrap import REPO_SPEC

_names = st.text(
    alphabet=st.sampled_from("abcXYZ019._-_ ,\n\t\u00e9\u200b"),
    min_size=0,
    max_size=70,
)


def renders(**changes: object) -> bool:
    try:
        bootstrap.render_user_data(dataclasses.replace(REPO_SPEC, **changes))  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


@settings(max_examples=150, deadline=None)
@given(_names)
@example("_gpu")
@example("a" * 257)
@example("gpu\n")
def test_a_label_renders_exactly_when_validation_accepts_it(label: str) -> None:
    accepted = rules.label_problem(label) is None
    assert renders(labels=("self-hosted", label)) == accepted


@settings(max_examples=150, deadline=None)
@given(_names)
@example("a" * 65)
@example("arm64-dev-a-0\n")
def test_a_runner_name_renders_exactly_when_validation_accepts_it(name: str) -> None:
    assert renders(runner_name=name) == (rules.runner_name_problem(name) is None)


def test_the_label_that_used_to_pass_validation_and_fail_at_render() -> None:
    assert rules.label_problem("_gpu") and not renders(labels=("self-hosted", "_gpu"))


@pytest.mark.parametrize(
    "value",
    ["graviton\n", "t4g.large\n", "us-east-1\n", "embeddenator\n", "tzervas\n", "ARM64_RUNS_ON\n", "large\n"],
)
def test_patterns_are_anchored_at_the_true_end(value: str) -> None:
    """`$` matches before a final newline; every rule refuses it."""
    checks = [
        rules.pool_name_problem,
        lambda v: rules.instance_type_problem(v, "arm64"),
        rules.aws_region_problem,
        rules.github_repository_problem,
        rules.github_owner_problem,
        rules.actions_variable_problem,
        rules.label_problem,
        rules.runner_group_problem,
        rules.name_prefix_problem,
    ]
    assert all(check(value) for check in checks)


def test_instance_type_typos_get_the_existing_type() -> None:
    assert "did you mean 't4g.large'" in (rules.instance_type_problem("t4g.lage", "arm64") or "")
    assert "did you mean 'c7g.large'" in (rules.instance_type_problem("c7g.larg", "arm64") or "")
    assert "did you mean 'c7a.large'" in (rules.instance_type_problem("c7a.lrge", "x86_64") or "")
    assert rules.instance_type_problem("t4g.large", "arm64") is None
    assert rules.instance_type_problem("c7a.large", "x86_64") is None


def test_the_catalog_agrees_with_the_architecture_rule() -> None:
    assert all(limits.is_graviton(t) for t in catalog.GRAVITON_TYPES)
    assert all(limits.is_x86_64(t) for t in catalog.X86_64_TYPES)
    assert not catalog.GRAVITON_TYPES & catalog.X86_64_TYPES


def test_ocids_need_the_full_format() -> None:
    compartment = rules.ocid_problem("compartment", "tenancy")
    good = "ocid1.compartment.oc1..aaaaaaaa4n3qbfy5wr7kvtlhqkz4w2wyrxn6lyjsbbxtnhdgsq3pgcmbfkqa"
    assert compartment(good) is None
    assert compartment(good.replace("compartment", "tenancy")) is None
    for bad in (
        "ocid1.compartment.oc1..x",
        good + "\n",
        good.upper(),
        "ocid1.compartment.",
        good.replace("..", ".iad."),
    ):
        assert compartment(bad), bad
    image = rules.ocid_problem("image")
    assert image("ocid1.image.oc1.iad.aaaaaaaahandpickedubuntu2404aarch64") is None
    assert image("ocid1.image.oc1..aaaaaaaahandpickedubuntu2404aarch64"), "regional OCIDs carry a region"


def test_base_url_https_without_userinfo() -> None:
    assert rules.https_url_problem("https://ghe.example.com") is None
    for bad in ("http://ghe.example.com", "https://u:p@ghe.example.com", "https://@ghe.example.com", "https://", "ghe"):
        assert rules.https_url_problem(bad), bad


def test_the_oci_component_applies_the_validators_rules() -> None:
    pool = OciPool(name="a", ocpus=2, memory_gb=12, disk_gb=50)
    check_pool(pool)
    for change, word in (
        ({"memory_gb": 200}, "GB per OCPU"),
        ({"ocpus": 81, "memory_gb": 81}, "at most 80"),
        ({"disk_gb": 40}, "at least 50"),
        ({"disk_gb": 40_000}, "at most 32768"),
        ({"shape": "VM.Standard.E4.Flex"}, "ARM64 shape"),
    ):
        with pytest.raises(OciPoolError, match=word):
            check_pool(dataclasses.replace(pool, **change))  # type: ignore[arg-type]


def test_the_pinned_runner_versions_match_the_version_rule() -> None:
    assert all(limits.RUNNER_VERSION_PATTERN.match(v) for v in ARM64_SHA256)
