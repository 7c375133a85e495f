"""`arm64-runners:emulated:RunnerPool`: x86_64 EC2 hosts whose runner runs jobs in an arm64 userland.

Everything but the host is the AWS pool's code (network, IAM, IMDS, disk, token hand-off, instances):
this profile only says x86_64 instance types, the amd64 Ubuntu image, and the `emulated` bootstrap
variant (qemu-user-static + binfmt and an arm64 root filesystem, see cloud-init/variants/emulated/).
The `emulated` label comes from StackConfig.runner_labels.
"""

from __future__ import annotations

import pulumi

from components.aws.pool import Ec2RunnerPool, HostProfile, RunnerPoolArgs
from components.config.limits import is_x86_64

EMULATED = HostProfile(
    module="emulated",
    architecture="x86_64",
    variant="emulated",
    accepts_instance_type=is_x86_64,
    instance_type_hint="an x86_64 type such as c7a.large, c7i.large or m7a.large (arm64 types belong in "
    "`cloud: aws` pools, which run the runner natively)",
)


class RunnerPool(Ec2RunnerPool):
    def __init__(self, name: str, args: RunnerPoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, EMULATED, opts)
