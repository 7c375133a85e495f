"""`cloud: emulated` pools under the mock engine: x86_64 hosts, `emulated` label, same hardening as AWS."""

from __future__ import annotations

import gzip

import pytest

from components.aws.pool import check_instance_type
from components.config.limits import is_graviton, is_x86_64
from components.config.model import EmulatedPool
from components.emulated.pool import EMULATED
from tests.components.aws import hardening as h
from tools.mockengine import PlanResult, run_stack

STACK = "dev"


@pytest.fixture(scope="module")
def plan() -> PlanResult:
    result = run_stack(STACK, h.stack(h.emulated_pool(count=2, spot=True)))
    assert result.error is None
    return result


def test_instance_types_are_x86_64_only(plan: PlanResult) -> None:
    h.assert_instance_types(plan, is_x86_64)
    with pytest.raises(AssertionError, match="wrong architecture"):
        h.assert_instance_types(plan, is_graviton)


def test_an_arm64_type_is_refused_with_a_clear_message() -> None:
    check_instance_type(EmulatedPool(name="ok", instance_type="c7a.large"), EMULATED)
    with pytest.raises(ValueError, match=r"'t4g.large' is not x86_64; use an x86_64 type .*`cloud: aws`"):
        check_instance_type(EmulatedPool(name="arm", instance_type="t4g.large"), EMULATED)
    refused = run_stack(STACK, h.stack(h.emulated_pool(instanceType="c7g.large")))
    assert refused.error is not None and not refused.resources


def test_image_is_ubuntu_amd64(plan: PlanResult) -> None:
    asked = [a["name"] for t, a in plan.invokes if t == "aws:ssm/getParameter:getParameter"]
    assert asked and all("/24.04/stable/current/amd64/" in name for name in asked)
    assert {t.plain_inputs["imageId"] for t in h.templates(plan)} == {"ami-0b7c2d4e6f8a01234"}


def test_labels_include_emulated(plan: PlanResult) -> None:
    registrations = [r for r in plan.resources if r.name.endswith("-registration")]
    assert len(registrations) == 2
    for registration in registrations:
        assert registration.plain_inputs["labels"] == ["self-hosted", "linux", "ARM64", "emulated"]
    for host in h.hosts(plan):
        text = gzip.decompress(h.user_data_bytes(host)).decode()
        assert "RUNNER_VARIANT='emulated'" in text or "RUNNER_VARIANT=emulated" in text
        assert "self-hosted,linux,ARM64,emulated" in text


def test_same_hardening_as_aws_pools(plan: PlanResult) -> None:
    h.assert_imdsv2(plan)
    h.assert_encrypted_root(plan, {"qemu": 60})
    h.assert_no_ingress(plan)
    h.assert_ssm_scoped(plan)
    h.assert_user_data(plan)
    h.assert_tags(plan, STACK)
    assert {s.plain_inputs["spotType"] for s in plan.by_type(h.SPOT_REQUEST)} == {"persistent"}


def test_aws_and_emulated_pools_share_one_network() -> None:
    result = run_stack(STACK, h.stack(h.aws_pool(count=1), h.emulated_pool(count=1)))
    assert result.error is None
    assert len(result.by_type(h.VPC)) == 1 and len(result.by_type(h.SECURITY_GROUP)) == 1
    groups = {t.plain_inputs["vpcSecurityGroupIds"][0] for t in h.templates(result)}
    assert len(groups) == 1
    kinds = sorted(r.type for r in result.resources if r.type.endswith(":RunnerPool"))
    assert kinds == ["arm64-runners:aws:RunnerPool", "arm64-runners:emulated:RunnerPool"]
    names = [r["name"] for r in result.outputs["runners"]]
    assert names == ["arm64-dev-graviton-0", "arm64-dev-qemu-0"]
    assert result.outputs["runsOn"] == "runs-on: [self-hosted, linux, ARM64]"
