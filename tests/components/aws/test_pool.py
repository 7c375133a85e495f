"""`cloud: aws` pools under the mock engine: hardening, hand-off, spot, naming, stability."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from typing import Any

import pytest

from components.aws.pool import GRAVITON, check_instance_type
from components.config.limits import is_graviton
from components.config.model import AwsPool
from tests.components.aws import hardening as h
from tools.mockengine import PlanResult, reveal, run_stack
from tools.mockengine import engine as mock_engine
from tools.mockengine.invokes_aws import images

STACK = "dev"


@pytest.fixture(scope="module")
def plan() -> PlanResult:
    """Two pools: on-demand (count 2) and persistent spot (count 1), dedicated VPC."""
    result = run_stack(STACK, h.stack(h.aws_pool(), h.aws_pool(name="spotty", count=1, spot=True, diskGb=80)))
    assert result.error is None
    return result


def _weakened(result: PlanResult, type_: str, change: Any) -> PlanResult:
    """A deep copy of `result` where `change(inputs)` edited the inputs of the first `type_` resource."""
    copied = copy.deepcopy(result)
    target = h.pool_resources(copied, type_)[0]
    target.inputs = reveal(target.inputs)
    change(target.inputs)
    return copied


def test_instance_types_are_graviton_only(plan: PlanResult) -> None:
    h.assert_instance_types(plan, is_graviton)
    weakened = _weakened(plan, h.LAUNCH_TEMPLATE, lambda i: i.update(instanceType="m7i.large"))
    with pytest.raises(AssertionError, match="wrong architecture"):
        h.assert_instance_types(weakened, is_graviton)


def test_the_component_refuses_an_x86_type_even_past_validation() -> None:
    check_instance_type(AwsPool(name="ok", instance_type="c8gd.large"), GRAVITON)
    with pytest.raises(ValueError, match=r"'m7i.large' is not arm64; use a Graviton"):
        check_instance_type(AwsPool(name="x86", instance_type="m7i.large"), GRAVITON)


def test_an_x86_ami_pinned_by_hand_fails_the_preview() -> None:
    with images({"ami-0000000000000f086": "x86_64", "ami-0000000000000a640": "arm64"}):
        good = run_stack(STACK, h.stack(h.aws_pool(ami="ami-0000000000000a640", count=1)))
        assert [t.plain_inputs["imageId"] for t in h.templates(good)] == ["ami-0000000000000a640"]
        with pytest.raises(Exception, match=r"AMI ami-0000000000000f086 \(pinned by hand \(ami:\)\) is x86_64"):
            run_stack(STACK, h.stack(h.aws_pool(ami="ami-0000000000000f086", count=1)))


def test_default_image_is_canonical_ubuntu_arm64_through_a_pin(plan: PlanResult) -> None:
    asked = [args["name"] for token, args in plan.invokes if token == "aws:ssm/getParameter:getParameter"]
    assert asked and all("/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id" in n for n in asked)
    pins = [r for r in plan.resources if r.name.endswith("-ami")]
    assert {p.name for p in pins} == {"pool-graviton-ami", "pool-spotty-ami"}
    assert {t.plain_inputs["imageId"] for t in h.templates(plan)} == {"ami-0a8d1b3c5e7f90123"}


def test_imdsv2_required_with_hop_limit(plan: PlanResult) -> None:
    h.assert_imdsv2(plan, hop_limit=1)
    weakened = _weakened(plan, h.LAUNCH_TEMPLATE, lambda i: i["metadataOptions"].update(httpTokens="optional"))
    with pytest.raises(AssertionError, match="IMDSv1 allowed"):
        h.assert_imdsv2(weakened)
    raised = run_stack(STACK, h.stack(h.aws_pool(count=1), aws={"metadataHopLimit": 2}))
    h.assert_imdsv2(raised, hop_limit=2)


def test_root_volume_encrypted_gp3_and_sized(plan: PlanResult) -> None:
    h.assert_encrypted_root(plan, {"graviton": 60, "spotty": 80})
    weakened = _weakened(
        plan, h.LAUNCH_TEMPLATE, lambda i: i["blockDeviceMappings"][0]["ebs"].update(encrypted="false")
    )
    with pytest.raises(AssertionError, match="not encrypted"):
        h.assert_encrypted_root(weakened, {"graviton": 60, "spotty": 80})


def test_no_ingress_anywhere(plan: PlanResult) -> None:
    h.assert_no_ingress(plan)
    assert len(plan.by_type(h.DEFAULT_SECURITY_GROUP)) == 1  # the new VPC's default group is emptied
    rule = {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}
    weakened = _weakened(plan, h.SECURITY_GROUP, lambda i: i.update(ingress=[rule]))
    with pytest.raises(AssertionError, match="has ingress rules"):
        h.assert_no_ingress(weakened)


def test_egress_is_the_configured_list() -> None:
    result = run_stack(STACK, h.stack(h.aws_pool(count=1), aws={"egress": [{"protocol": "tcp", "port": 443}]}))
    (group,) = result.by_type(h.SECURITY_GROUP)
    egress = group.plain_inputs["egress"]
    assert [(e["protocol"], e["fromPort"], e["toPort"], e["cidrBlocks"]) for e in egress] == [
        ("tcp", 443, 443, ["0.0.0.0/0"])
    ]


def test_iam_grants_each_runner_its_own_parameter_only(plan: PlanResult) -> None:
    h.assert_ssm_scoped(plan)

    def wildcard(inputs: dict[str, Any]) -> None:
        document = json.loads(inputs["policy"])
        document["Statement"][0]["Resource"] = "arn:aws:ssm:us-east-1:123456789012:parameter/arm64-runners/*"
        inputs["policy"] = json.dumps(document)

    with pytest.raises(AssertionError, match="wildcard resource"):
        h.assert_ssm_scoped(_weakened(plan, h.ROLE_POLICY, wildcard))

    def no_deny(inputs: dict[str, Any]) -> None:
        document = json.loads(inputs["policy"])
        document["Statement"] = document["Statement"][:1]
        inputs["policy"] = json.dumps(document)

    with pytest.raises(AssertionError, match="not denied"):
        h.assert_ssm_scoped(_weakened(plan, h.ROLE_POLICY, no_deny))
    roles = h.pool_resources(plan, "aws:iam/role:Role")
    assert len(roles) == len(h.hosts(plan)) == 3  # one role per runner, not per pool
    attachments = plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert {a.plain_inputs["policyArn"] for a in attachments} == {
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    }


def test_the_handoff_holds_the_registration_token_as_a_secret_under_a_generation_path() -> None:
    result = run_stack(STACK, h.stack(h.aws_pool(count=1)))
    (handoff,) = h.handoffs(result)
    assert mock_engine.is_secret(handoff.inputs["value"])
    assert handoff.plain_inputs["region"] == "us-east-1" and handoff.plain_inputs["tier"] == "Standard"
    registration = next(r for r in result.resources if r.name == "pool-graviton-0-registration")
    assert reveal(handoff.inputs["value"]) == reveal(registration.outputs["token"])
    assert handoff.parent_urn == registration.parent_urn  # both children of the runner's Runner component
    path = handoff.plain_inputs["parameter_name"]
    generation = path.removeprefix(f"/arm64-runners/{STACK}/arm64-{STACK}-graviton-0/").removesuffix("/token")
    assert len(generation) == 12 and int(generation, 16) >= 0
    # The instance finds it by tag too (the wake function re-registers a runner through it).
    (instance,) = result.by_type(h.INSTANCE)
    assert instance.plain_inputs["tags"]["arm64-runners:handoff"] == path
    assert instance.plain_inputs["tags"]["arm64-runners:runner"] == f"arm64-{STACK}-graviton-0"
    ephemeral = run_stack(STACK, h.stack(h.aws_pool(count=1), runner={"ephemeral": True}))
    assert [p.plain_inputs["tier"] for p in h.handoffs(ephemeral)] == ["Advanced"]  # JIT configs are larger


def test_user_data_is_secret_small_and_points_at_the_parameter(plan: PlanResult) -> None:
    h.assert_user_data(plan)
    for host in h.hosts(plan):
        text = h.gzip.decompress(h.user_data_bytes(host)).decode()
        own = next(
            p.plain_inputs["parameter_name"]
            for p in h.handoffs(plan)
            if p.name.removesuffix("-token") == host.name.removesuffix("-instance")
        )
        assert own in text and "aws-ssm" not in own
    weakened = _weakened(plan, h.INSTANCE, lambda i: None)
    with pytest.raises(AssertionError, match="not secret"):
        h.assert_user_data(weakened)


def test_user_data_over_16_kib_fails_before_any_resource() -> None:
    from components.aws.pool import Ec2Boot
    from components.config import load_stack_file
    from components.runner import RunnerSlot, check_user_data

    config = load_stack_file("stacks/Pulumi.aws-graviton.yaml")
    pool = config.pools[0]
    slots = [RunnerSlot(config, pool, i) for i in range(pool.count)]
    check_user_data(slots, Ec2Boot(config, pool, GRAVITON, "us-east-1"))  # the example stack fits
    # Labels that barely compress (hex digests, ~50 KB): they cannot fit in 16 KiB gzipped.
    labels = tuple(hashlib.sha512(str(i).encode()).hexdigest() * 2 for i in range(500))
    huge = dataclasses.replace(config, runner=dataclasses.replace(config.runner, labels=labels))
    huge_slots = [RunnerSlot(huge, pool, i) for i in range(pool.count)]
    with pytest.raises(ValueError, match=r"user-data is \d+ bytes gzipped; EC2 accepts at most 16384"):
        check_user_data(huge_slots, Ec2Boot(huge, pool, GRAVITON, "us-east-1"))
    # Through the program: the preview fails before the pool declares anything.
    # As many labels as GitHub accepts (100 a runner, 256 characters each, none repeating itself): still
    # over 16 KiB gzipped.
    distinct = [
        hashlib.sha512(str(i).encode()).hexdigest() + hashlib.sha512(str(-i).encode()).hexdigest() for i in range(1, 98)
    ]
    values = h.stack(h.aws_pool(count=1), runner={"labels": distinct, "idleAction": "none"})
    registered: list[str] = []

    def record(type_: str, name: str, _inputs: dict[str, Any]) -> None:
        registered.append(name)

    with pytest.raises(Exception, match="EC2 accepts at most 16384"):
        run_stack(STACK, values, resource_outputs=record)
    # The stack's shared network precedes the pool; the pool component declared no child.
    assert "pool-graviton" in registered and not [n for n in registered if n.startswith("pool-graviton-")]


def test_tags(plan: PlanResult) -> None:
    h.assert_tags(plan, STACK)
    names = {host.plain_inputs["tags"]["Name"] for host in h.hosts(plan)}
    assert names == {"arm64-dev-graviton-0", "arm64-dev-graviton-1", "arm64-dev-spotty-0"}
    weakened = _weakened(plan, h.INSTANCE, lambda i: i["tags"].pop("managed-by"))
    with pytest.raises(AssertionError, match="missing tags"):
        h.assert_tags(weakened, STACK)


def test_spot_is_a_persistent_request_that_stops(plan: PlanResult) -> None:
    (spot,) = plan.by_type(h.SPOT_REQUEST)
    inputs = spot.plain_inputs
    assert inputs["spotType"] == "persistent"
    assert inputs["instanceInterruptionBehavior"] == "stop"
    assert inputs["waitForFulfillment"] is True
    assert {i.plain_inputs["tags"]["arm64-runners:pool"] for i in plan.by_type(h.INSTANCE)} == {"graviton"}
    tags = {t.plain_inputs["key"]: t.plain_inputs["value"] for t in plan.by_type("aws:ec2/tag:Tag")}
    (handoff,) = [p for p in h.handoffs(plan) if "spotty" in p.name]
    assert tags == {
        "Name": "arm64-dev-spotty-0",
        "arm64-runners:runner": "arm64-dev-spotty-0",
        "arm64-runners:handoff": handoff.plain_inputs["parameter_name"],
    }


def test_idle_action_sets_the_shutdown_behaviour() -> None:
    terminate = run_stack(STACK, h.stack(h.aws_pool(count=1), runner={"idleAction": "terminate"}))
    assert [t.plain_inputs["instanceInitiatedShutdownBehavior"] for t in h.templates(terminate)] == ["terminate"]
    stop = run_stack(STACK, h.stack(h.aws_pool(count=1), runner={"idleAction": "stop"}))
    assert [t.plain_inputs["instanceInitiatedShutdownBehavior"] for t in h.templates(stop)] == ["stop"]


def test_existing_vpc_creates_no_network() -> None:
    subnets = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    result = run_stack(
        STACK, h.stack(h.aws_pool(count=3), aws={"vpcId": "vpc-0123456789abcdef0", "subnetIds": subnets})
    )
    assert result.error is None
    assert not result.by_type(h.VPC)
    for kind in ("subnet:Subnet", "internetGateway:InternetGateway", "routeTable:RouteTable"):
        assert not result.by_type(f"aws:ec2/{kind}")
    (group,) = result.by_type(h.SECURITY_GROUP)
    assert group.plain_inputs["vpcId"] == "vpc-0123456789abcdef0"
    placed = {host.name: host.plain_inputs["subnetId"] for host in h.hosts(result)}
    assert placed == {
        "pool-graviton-0-instance": subnets[0],
        "pool-graviton-1-instance": subnets[1],
        "pool-graviton-2-instance": subnets[0],
    }
    dedicated = run_stack(STACK, h.stack(h.aws_pool(count=1)))
    assert len(dedicated.by_type(h.VPC)) == 1  # the failing variant: without vpcId a VPC is created


def test_names_unique_across_pools_and_one_network_per_stack(plan: PlanResult) -> None:
    urns = [r.urn for r in plan.resources]
    assert len(urns) == len(set(urns))
    runner_names = [r["name"] for r in plan.outputs["runners"]]
    assert runner_names == ["arm64-dev-graviton-0", "arm64-dev-graviton-1", "arm64-dev-spotty-0"]
    parameters = [p.plain_inputs["parameter_name"] for p in h.handoffs(plan)]
    assert len(parameters) == len(set(parameters)) == 3
    assert len(plan.by_type(h.VPC)) == 1 and len(plan.by_type(h.SECURITY_GROUP)) == 1
    assert len(h.templates(plan)) == 2  # one launch template per pool


def test_runner_outputs(plan: PlanResult) -> None:
    by_name = {r["name"]: r for r in plan.outputs["runners"]}
    spot = by_name["arm64-dev-spotty-0"]
    (request,) = plan.by_type(h.SPOT_REQUEST)
    assert spot["instance_id"] == request.outputs["spotInstanceId"]
    assert spot["ssm_command"] == f"aws ssm start-session --region us-east-1 --target {spot['instance_id']}"
    assert spot["console_command"].startswith(
        f"aws ec2 get-console-output --region us-east-1 --instance-id {spot['instance_id']}"
    )
    for runner in by_name.values():
        assert runner["private_ip"].startswith("10.42.") and runner["availability_zone"].startswith("us-east-1")
    assert plan.outputs["runsOn"] == "runs-on: [self-hosted, linux, ARM64]"


def _inputs(result: PlanResult) -> dict[str, Any]:
    return {r.urn: reveal(r.inputs) for r in result.resources}


def test_running_the_program_twice_gives_identical_inputs(plan: PlanResult) -> None:
    config = h.stack(h.aws_pool(), h.aws_pool(name="spotty", count=1, spot=True, diskGb=80))
    again = run_stack(STACK, config)
    assert _inputs(again) == _inputs(plan)
    newer = copy.deepcopy(config)
    newer["arm64-runners:pools"][0]["diskGb"] = 70
    changed = _inputs(run_stack(STACK, newer))
    differing = {urn.rsplit("::", 1)[1] for urn in changed if changed[urn] != _inputs(plan).get(urn)}
    # The failing variant: a replacement-worthy change does show up, in the registration's fingerprint.
    assert {"pool-graviton-template", "pool-graviton-0-registration", "pool-graviton-1-registration"} <= differing
