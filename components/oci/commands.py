"""The OCI CLI commands a user needs for one runner instance (shown in the stack outputs)."""

from __future__ import annotations


def for_instance(instance_id: str) -> dict[str, str]:
    target = f"--instance-id {instance_id}"
    return {
        # The boot log (cloud-init, `arm64-runner: READY|FAILED` lines) without any network access.
        "console_history_command": (
            f"oci compute console-history capture {target} --query data.id --raw-output"
            " | xargs -I{} oci compute console-history get-content --instance-console-history-id {}"
            " --length 10000000 --file -"
        ),
        # Interactive serial console over SSH (needs your public key, no ingress rule).
        "console_command": (
            f"oci compute instance-console-connection create {target} --ssh-public-key-file ~/.ssh/id_ed25519.pub"
        ),
        "start_command": f"oci compute instance action {target} --action START",
        "stop_command": f"oci compute instance action {target} --action SOFTSTOP",
        "reboot_command": f"oci compute instance action {target} --action SOFTRESET",
    }
