"""Availability-domain choice from ComputeCapacityReports: first AVAILABLE wins, none is a clear error."""

from __future__ import annotations

import pytest

from components.oci.capacity import NoCapacityError, candidate_domains, choose_domain, domain_status
from tools.mockengine import invokes_oci, run_stack

from .stacks import COMPARTMENT, pool, stack

REPORT = "oci:Core/computeCapacityReport:ComputeCapacityReport"
AD = [f"Uocm:US-ASHBURN-AD-{n}" for n in (1, 2, 3)]


def chosen_domains(result):
    return {i.plain_inputs["availabilityDomain"] for i in result.by_type("oci:Core/instance:Instance")}


def test_one_report_per_candidate_domain_for_the_pools_shape_config():
    result = run_stack("dev", stack(pool(ocpus=3, memoryGb=18)))
    reports = sorted(result.by_type(REPORT), key=lambda r: r.name)
    assert [r.plain_inputs["availabilityDomain"] for r in reports] == AD
    for report in reports:
        assert report.plain_inputs["compartmentId"] == COMPARTMENT
        assert report.plain_inputs["shapeAvailabilities"] == [
            {"instanceShape": "VM.Standard.A1.Flex", "instanceShapeConfig": {"ocpus": 3.0, "memoryInGbs": 18.0}}
        ]
    assert chosen_domains(result) == {AD[0]}


def test_the_first_domain_without_capacity_is_skipped():
    with invokes_oci.capacity({1: "OUT_OF_HOST_CAPACITY"}):
        result = run_stack("dev", stack(pool(count=2)))
    assert chosen_domains(result) == {AD[1]}
    assert {r["availability_domain"] for r in result.outputs["runners"]} == {AD[1]}


def test_domains_are_tried_in_the_pools_order():
    with invokes_oci.capacity({3: "OUT_OF_HOST_CAPACITY"}):
        result = run_stack("dev", stack(pool(availabilityDomains=[3, 2, 1])))
    assert chosen_domains(result) == {AD[1]}


def test_no_domain_with_capacity_is_a_clear_error_saying_what_to_try():
    statuses = {1: "OUT_OF_HOST_CAPACITY", 2: "OUT_OF_HOST_CAPACITY", 3: "HARDWARE_NOT_SUPPORTED"}
    with invokes_oci.capacity(statuses), pytest.raises(NoCapacityError) as failure:
        run_stack("dev", stack(pool(availabilityDomains=[1, 2])))
    message = str(failure.value)
    assert "no availability domain has capacity for VM.Standard.A1.Flex with 2 OCPU / 12 GB" in message
    assert f"{AD[0]}: OUT_OF_HOST_CAPACITY" in message and f"{AD[1]}: OUT_OF_HOST_CAPACITY" in message
    assert "other domains (3)" in message
    assert "fewer ocpus" in message and "another region" in message
    assert "pulumi up --replace" in message and "pool-ampere-capacity-ad1" in message


def test_domain_numbers_beyond_the_region_are_skipped():
    with invokes_oci.availability_domains(1):
        result = run_stack("dev", stack(pool(availabilityDomains=[1, 2, 3])))
    assert len(result.by_type(REPORT)) == 1
    assert chosen_domains(result) == {"Uocm:US-ASHBURN-AD-1"}


def test_a_pool_naming_no_domain_of_the_region_is_refused():
    with invokes_oci.availability_domains(1), pytest.raises(NoCapacityError, match="names no domain"):
        run_stack("dev", stack(pool(availabilityDomains=[2, 3])))


def test_candidate_domains_keep_order_and_drop_unknown_and_repeated_numbers():
    assert candidate_domains(AD, [3, 1, 3, 7]) == [(3, AD[2]), (1, AD[0])]
    assert candidate_domains(AD[:1], [2]) == []


@pytest.mark.parametrize(
    ("entries", "status"),
    [
        ([{"instance_shape": "VM.Standard.A1.Flex", "availability_status": "AVAILABLE"}], "AVAILABLE"),
        (
            [{"instance_shape": "VM.Standard.A1.Flex", "availability_status": "OUT_OF_HOST_CAPACITY"}],
            "OUT_OF_HOST_CAPACITY",
        ),
        # One entry per fault domain: any AVAILABLE one is enough.
        (
            [
                {"instance_shape": "VM.Standard.A1.Flex", "availability_status": "OUT_OF_HOST_CAPACITY"},
                {"instance_shape": "VM.Standard.A1.Flex", "availability_status": "AVAILABLE"},
            ],
            "AVAILABLE",
        ),
        ([{"instance_shape": "VM.Standard.E4.Flex", "availability_status": "AVAILABLE"}], "UNKNOWN"),
        ([], "UNKNOWN"),
        (None, "UNKNOWN"),
    ],
)
def test_domain_status_reads_only_the_pools_shape(entries, status):
    assert domain_status(entries, "VM.Standard.A1.Flex") == status


def test_choose_domain_returns_the_first_available_and_fails_when_none_is():
    ok = [{"availability_status": "AVAILABLE"}]
    full = [{"availability_status": "OUT_OF_HOST_CAPACITY"}]
    assert choose_domain("p", "VM.Standard.A1.Flex", 1, 6, AD[:2], [full, ok], ["u1", "u2"]) == AD[1]
    with pytest.raises(NoCapacityError, match="--replace 'u1' --replace 'u2'"):
        choose_domain("p", "VM.Standard.A1.Flex", 1, 6, AD[:2], [full, full], ["u1", "u2"])


def test_the_choice_is_pinned_per_shape_configuration():
    with invokes_oci.capacity({1: "OUT_OF_HOST_CAPACITY"}):
        result = run_stack("dev", stack(pool(ocpus=2, memoryGb=12)))
    (pin,) = [r for r in result.resources if r.name == "pool-ampere-domain-2ocpu-12gb"]
    assert pin.plain_inputs["candidate"] == AD[1]
    assert chosen_domains(result) == {pin.outputs["value"]}
    resized = run_stack("dev", stack(pool(ocpus=1, memoryGb=6)))
    assert [r.name for r in resized.resources if r.name.startswith("pool-ampere-domain-")] == [
        "pool-ampere-domain-1ocpu-6gb"
    ], "a new shape configuration must ask for a domain afresh"
