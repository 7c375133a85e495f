"""The boot image: Canonical Ubuntu 24.04 for the pool's (aarch64) shape, looked up once and pinned.

OCI's image list only holds the few newest builds of each distribution, and an instance's image is
immutable, so following the lookup would replace every runner whenever Canonical publishes a build (and
break outright once the pinned build drops off the list). The lookup is therefore filtered by the shape
(the Compute API then returns only images that boot on it: aarch64 builds for A1), sorted newest first,
and held by a PinnedValue; `imageId` in the pool pins an OCID by hand instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_oci as oci

from components.pinned import PinnedValue

OPERATING_SYSTEM = "Canonical Ubuntu"
OPERATING_SYSTEM_VERSION = "24.04"


class NoImageError(RuntimeError):
    """The compartment lists no Ubuntu 24.04 aarch64 image for the shape."""


def _field(item: Any, name: str) -> Any:
    """An invoke result entry arrives as an output object (attributes) or, from some engines, a dict."""
    value = getattr(item, name, None)
    if value is None and isinstance(item, dict):
        value = item.get(name)
    return value


def newest_aarch64(images: Sequence[Any], shape: str) -> str:
    """OCID of the first (newest) aarch64 build in an already newest-first list."""
    for image in images:
        if "aarch64" in str(_field(image, "display_name")):
            return str(_field(image, "id"))
    raise NoImageError(
        f"no {OPERATING_SYSTEM} {OPERATING_SYSTEM_VERSION} aarch64 image is listed for {shape} in this "
        "region; set imageId on the pool to an image OCID from the OCI console (Compute > Images)"
    )


def resolve_image(
    name: str, compartment_id: str, shape: str, image_id: str | None, opts: pulumi.ResourceOptions
) -> pulumi.Output[str]:
    """The image OCID the pool's instances boot: `image_id` as given, or the pinned lookup."""
    if image_id is not None:
        return pulumi.Output.from_input(image_id)
    listed = oci.core.get_images_output(
        compartment_id=compartment_id,
        operating_system=OPERATING_SYSTEM,
        operating_system_version=OPERATING_SYSTEM_VERSION,
        shape=shape,
        state="AVAILABLE",
        sort_by="TIMECREATED",
        sort_order="DESC",
    )
    candidate = listed.images.apply(lambda images: newest_aarch64(images, shape))
    return PinnedValue(f"{name}-image", candidate, opts).value
