"""Boot image: Ubuntu 24.04 filtered by the A1 shape, newest aarch64 build, held by a PinnedValue."""

from __future__ import annotations

import pytest

from components.oci.image import NoImageError, newest_aarch64
from tools.mockengine import invokes_oci, run_stack

from .stacks import COMPARTMENT, pool, stack

GET_IMAGES = "oci:Core/getImages:getImages"
NEWEST_ARM = invokes_oci.image_ocid("Canonical-Ubuntu-24.04-aarch64-2025.10.31-0")
NEWEST_X86 = invokes_oci.image_ocid("Canonical-Ubuntu-24.04-2025.10.31-0")


def image_of(result):
    (instance,) = result.by_type("oci:Core/instance:Instance")
    return instance.plain_inputs["sourceDetails"]["sourceId"]


def test_lookup_is_filtered_by_shape_os_and_version_newest_first():
    result = run_stack("dev", stack(pool()))
    (args,) = [args for token, args in result.invokes if token == GET_IMAGES]
    assert args == {
        "compartmentId": COMPARTMENT,
        "operatingSystem": "Canonical Ubuntu",
        "operatingSystemVersion": "24.04",
        "shape": "VM.Standard.A1.Flex",
        "state": "AVAILABLE",
        "sortBy": "TIMECREATED",
        "sortOrder": "DESC",
    }
    assert image_of(result) == NEWEST_ARM


def test_without_the_shape_filter_the_newest_image_would_be_x86():
    """Failing variant: the catalogue's newest 24.04 build is x86_64, so the shape filter matters."""
    unfiltered = invokes_oci.ANSWERS[GET_IMAGES](
        {"compartmentId": COMPARTMENT, "operatingSystem": "Canonical Ubuntu", "operatingSystemVersion": "24.04"}
    )
    assert unfiltered["images"][0]["id"] == NEWEST_X86
    filtered = invokes_oci.ANSWERS[GET_IMAGES](
        {
            "compartmentId": COMPARTMENT,
            "operatingSystem": "Canonical Ubuntu",
            "operatingSystemVersion": "24.04",
            "shape": "VM.Standard.A1.Flex",
        }
    )
    assert filtered["images"][0]["id"] == NEWEST_ARM
    assert all("aarch64" in image["displayName"] for image in filtered["images"])


def test_the_resolved_image_is_pinned_and_the_instance_boots_the_pinned_value():
    result = run_stack("dev", stack(pool()))
    (pin,) = [r for r in result.resources if r.name == "pool-ampere-image"]
    assert pin.type == "pulumi-python:dynamic:Resource"
    assert pin.plain_inputs["candidate"] == NEWEST_ARM
    assert image_of(result) == pin.outputs["value"]


def test_a_newer_build_later_does_not_move_the_pin_in_state():
    """The pin's provider never reports a diff for a new candidate (components.pinned)."""
    from components.pinned import PinnedValueProvider

    diff = PinnedValueProvider().diff("pin", {"candidate": NEWEST_ARM, "value": NEWEST_ARM}, {"candidate": "newer"})
    assert diff.changes is False


def test_image_id_pins_by_hand_without_any_lookup():
    hand = "ocid1.image.oc1.iad.aaaaaaaahandpickedubuntu2404aarch64"
    result = run_stack("dev", stack(pool(imageId=hand)))
    assert image_of(result) == hand
    assert not [token for token, _ in result.invokes if token == GET_IMAGES]
    assert not [r for r in result.resources if r.name == "pool-ampere-image"]


def test_a_region_without_an_aarch64_build_fails_with_what_to_do():
    x86_only = lambda args: {"images": [{"id": NEWEST_X86, "displayName": "Canonical-Ubuntu-24.04-2025.10.31-0"}]}  # noqa: E731
    with pytest.raises(NoImageError, match="set imageId"):
        run_stack("dev", stack(pool()), invokes={GET_IMAGES: x86_only})


def test_newest_aarch64_takes_the_first_arm_build_of_the_list():
    images = [
        {"id": "x86", "display_name": "Canonical-Ubuntu-24.04-2025.10.31-0"},
        {"id": "arm-new", "display_name": "Canonical-Ubuntu-24.04-aarch64-2025.10.31-0"},
        {"id": "arm-old", "display_name": "Canonical-Ubuntu-24.04-aarch64-2025.09.30-0"},
    ]
    assert newest_aarch64(images, "VM.Standard.A1.Flex") == "arm-new"
    with pytest.raises(NoImageError):
        newest_aarch64(images[:1], "VM.Standard.A1.Flex")
