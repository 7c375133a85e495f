"""Pool resources say their cloud and idle action (read by the policy pack and the operator tools)."""

from components.config import load_stack_file
from components.tags import pool_tags, stack_tags


def test_pool_tags_name_stack_pool_cloud_and_idle_action():
    config = load_stack_file("stacks/Pulumi.mixed.yaml")
    qemu = next(p for p in config.pools if p.cloud == "emulated")
    assert pool_tags(config, qemu) == {
        "arm64-runners:stack": "mixed",
        "arm64-runners:pool": "qemu",
        "arm64-runners:cloud": "emulated",
        "arm64-runners:idle-action": "none",  # the mixed stack keeps its OCI pool up
        "managed-by": "arm64-runners",
    }
    assert stack_tags("mixed") == {"arm64-runners:stack": "mixed", "managed-by": "arm64-runners"}
