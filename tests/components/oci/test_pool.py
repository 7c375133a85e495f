"""OCI RunnerPool under the mock engine: the instances it declares, their tags, outputs and stability."""

from __future__ import annotations

import pytest

from components.config.model import OciPool
from components.oci.checks import OciPoolError, check_pool
from tools.mockengine import reveal, run_stack

from .stacks import COMPARTMENT, pool, stack

INSTANCE = "oci:Core/instance:Instance"
REGISTRATION_KEYS = {"runner_name", "scope_path", "replacement_fingerprint"}


def instances(result):
    return sorted(result.by_type(INSTANCE), key=lambda r: r.name)


def registrations(result):
    return sorted(
        (r for r in result.resources if set(r.inputs) >= REGISTRATION_KEYS),
        key=lambda r: r.name,
    )


def test_instances_are_a1_flex_with_the_pools_shape_disk_and_names():
    result = run_stack("dev", stack(pool(count=2, ocpus=1, memoryGb=6, diskGb=60)))
    assert result.error is None
    first, second = instances(result)
    for index, instance in enumerate((first, second)):
        inputs = instance.plain_inputs
        assert inputs["shape"] == "VM.Standard.A1.Flex"
        assert inputs["shapeConfig"] == {"ocpus": 1.0, "memoryInGbs": 6.0}
        assert inputs["sourceDetails"]["sourceType"] == "image"
        assert inputs["sourceDetails"]["bootVolumeSizeInGbs"] == "60"
        assert inputs["displayName"] == f"arm64-dev-ampere-{index}"
        assert inputs["createVnicDetails"]["displayName"] == f"arm64-dev-ampere-{index}"
        assert inputs["compartmentId"] == COMPARTMENT
        assert inputs["preserveBootVolume"] is False
    assert [r.name for r in (first, second)] == ["pool-ampere-0-instance", "pool-ampere-1-instance"]


def test_legacy_imds_endpoints_are_disabled_on_every_instance():
    result = run_stack("dev", stack(pool(count=2)))
    assert all(i.plain_inputs["instanceOptions"] == {"areLegacyImdsEndpointsDisabled": True} for i in instances(result))


def test_freeform_tags_name_stack_pool_and_manager_on_instances_and_network():
    result = run_stack("dev", stack(pool(name="big"), pool(name="small", ocpus=1, memoryGb=6)))
    expected = {"managed-by": "arm64-runners", "arm64-runners:stack": "dev"}
    for instance in instances(result):
        pool_name = instance.name.split("-")[1]
        assert instance.plain_inputs["freeformTags"] == {
            **expected,
            "arm64-runners:pool": pool_name,
            "arm64-runners:cloud": "oci",
            "arm64-runners:idle-action": "none",
        }
    tagged = [r for r in result.resources if r.type.startswith("oci:Core/") and "ComputeCapacity" not in r.type]
    assert len(tagged) > len(instances(result))
    missing = [r.name for r in tagged if not expected.items() <= reveal(r.inputs.get("freeformTags", {})).items()]
    assert not missing, f"untagged OCI resources: {missing}"


@pytest.mark.parametrize("shape", ["VM.Standard.E4.Flex", "VM.Standard3.Flex", "VM.Standard.A2.Flex"])
def test_only_the_a1_shape_is_accepted(shape):
    result = run_stack("dev", stack(pool(shape=shape)))
    assert result.error is not None, "validation let a non-A1 shape through"
    assert not result.resources
    # The component refuses it too, should a caller skip validation.
    with pytest.raises(OciPoolError, match=r"VM\.Standard\.A1\.Flex"):
        check_pool(OciPool(name="p", shape=shape, ocpus=2, memory_gb=12))
    check_pool(OciPool(name="p", shape="VM.Standard.A1.Flex", ocpus=2, memory_gb=12))


@pytest.mark.parametrize(
    ("ocpus", "memory_gb", "ok"),
    [(1, 1, True), (1, 64, True), (2, 128, True), (4, 24, True), (1, 65, False), (4, 3, False), (2, 1, False)],
)
def test_memory_must_be_1_to_64_gb_per_ocpu(ocpus, memory_gb, ok):
    spec = OciPool(name="p", ocpus=ocpus, memory_gb=memory_gb)
    if ok:
        check_pool(spec)
    else:
        with pytest.raises(OciPoolError, match="GB per OCPU"):
            check_pool(spec)
    result = run_stack("dev", stack(pool(ocpus=ocpus, memoryGb=memory_gb), oci={"freeTier": False}))
    assert (result.error is None) == ok
    assert bool(instances(result)) == ok


def test_runner_outputs_carry_instance_domain_ip_and_cli_commands():
    result = run_stack("dev", stack(pool(count=2)))
    runners = result.outputs["runners"]
    assert [r["name"] for r in runners] == ["arm64-dev-ampere-0", "arm64-dev-ampere-1"]
    by_name = {i.plain_inputs["displayName"]: i for i in instances(result)}
    for runner in runners:
        instance = by_name[runner["name"]]
        assert runner["instance_id"] == instance.id and instance.id.startswith("ocid1.instance.")
        assert runner["availability_domain"] == instance.plain_inputs["availabilityDomain"]
        assert runner["private_ip"] == instance.outputs["privateIp"]
        assert runner["cloud"] == "oci" and runner["pool"] == "ampere"
        assert runner["start_command"] == f"oci compute instance action --instance-id {instance.id} --action START"
        for key in ("console_command", "console_history_command", "stop_command", "reboot_command"):
            assert instance.id in runner[key]


def test_running_the_program_twice_declares_identical_inputs():
    config = stack(pool(count=2), pool(name="small", ocpus=1, memoryGb=6))
    first, second = run_stack("dev", config), run_stack("dev", config)
    assert [r.urn for r in first.resources] == [r.urn for r in second.resources]
    for a, b in zip(first.resources, second.resources, strict=True):
        assert a.plain_inputs == b.plain_inputs, f"{a.name} differs between two runs"
    assert first.outputs == second.outputs


def test_a_changed_runner_setting_is_seen_by_the_instance_inputs():
    """The failing variant of the test above: a real change does show up in the declared inputs."""
    base = run_stack("dev", stack(pool()))
    changed = run_stack("dev", stack(pool(), runner={"idleTimeoutMinutes": 45}))
    (a,), (b,) = instances(base), instances(changed)
    assert a.plain_inputs["metadata"]["user_data"] != b.plain_inputs["metadata"]["user_data"]


@pytest.mark.parametrize(
    ("change", "replaces"),
    [
        ({}, False),
        ({"ocpus": 1, "memoryGb": 6}, True),
        ({"diskGb": 80}, True),
        ({"labels": ["big"]}, True),
        ({"imageId": "ocid1.image.oc1.iad.aaaaaaaahandpinnedimage"}, True),
        ({"availabilityDomains": [2, 1]}, True),  # AD-2 is now asked first and has room: moved
        ({"availabilityDomains": [1, 3]}, False),  # AD-1 still answers AVAILABLE first: stays
    ],
)
def test_registration_fingerprint_follows_what_replaces_the_instance(change, replaces):
    (before,) = registrations(run_stack("dev", stack(pool())))
    (after,) = registrations(run_stack("dev", stack(pool(**change))))
    same = before.plain_inputs["replacement_fingerprint"] == after.plain_inputs["replacement_fingerprint"]
    assert same != replaces


def test_registration_is_made_for_each_runner_with_the_stack_labels():
    result = run_stack("dev", stack(pool(count=2, labels=["big"]), runner={"labels": ["oci"]}))
    regs = registrations(result)
    assert [r.plain_inputs["runner_name"] for r in regs] == ["arm64-dev-ampere-0", "arm64-dev-ampere-1"]
    assert all(r.plain_inputs["labels"] == ["self-hosted", "linux", "ARM64", "oci", "big"] for r in regs)
    assert all(r.plain_inputs["scope_path"] == "/repos/tzervas/embeddenator" for r in regs)


def test_instance_is_replaced_with_its_registration_and_deleted_first():
    """The instance carries replaceOnChanges=[metadata] (the token) and deleteBeforeReplace."""
    result = run_stack("dev", stack(pool(count=2)))
    for instance in instances(result):
        assert (instance.replace_on_changes, instance.delete_before_replace) == (["metadata"], True)
    # Nothing else is replaced on a metadata change: only instances ask for it.
    assert sorted(r.name for r in result.resources if r.replace_on_changes) == sorted(i.name for i in instances(result))


def test_free_tier_pools_are_told_about_idle_reclaim_and_paid_pools_are_not():
    free = run_stack("dev", stack(pool()))
    assert any("idle for 7 days" in i and "ampere" in i for i in free.infos)
    assert not any("idle for 7 days" in w for w in free.warnings)  # information, not a problem of the stack
    paid = run_stack("dev", stack(pool(), oci={"freeTier": False}))
    assert not any("idle for 7 days" in m for m in paid.infos + paid.warnings)


def test_idle_action_stop_warns_that_os_power_off_keeps_billing():
    stopped = run_stack("dev", stack(pool(), runner={"idleAction": "stop"}))
    assert any("keeps billing" in w for w in stopped.warnings)
    assert not any("keeps billing" in w for w in run_stack("dev", stack(pool())).warnings)


@pytest.mark.parametrize(
    ("pools", "fits"),
    [
        ([pool(count=2, ocpus=2, memoryGb=12, diskGb=100)], True),
        ([pool(ocpus=2, memoryGb=12), pool(name="b", ocpus=2, memoryGb=12)], True),
        (
            [pool(ocpus=2, memoryGb=12), pool(name="b", ocpus=2, memoryGb=12), pool(name="c", ocpus=1, memoryGb=6)],
            False,
        ),
        ([pool(ocpus=2, memoryGb=12), pool(name="b", count=2, ocpus=1, memoryGb=8)], False),
        ([pool(count=3, diskGb=100)], False),
    ],
)
def test_free_tier_totals_are_checked_across_pools_before_any_resource(pools, fits):
    result = run_stack("dev", stack(*pools))
    assert (result.error is None) == fits
    if not fits:
        assert not result.resources and "Always Free" in str(result.error)
    else:
        assert len(instances(result)) == sum(p["count"] for p in pools)
