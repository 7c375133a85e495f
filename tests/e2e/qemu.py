"""The guest machine's QEMU options, in one place for the boots (vm.py) and the preflight.

Standard library only: the preflight runs before any virtualenv exists.

The NIC is `virtio-net-pci` with `romfile=` empty. QEMU otherwise loads an iPXE option ROM
(`efi-virtio.rom`, Debian package `ipxe-qemu`, only a Recommends of qemu-system-arm) and refuses to
start without it. The guests boot with `-kernel`, never from the network, so the ROM would never run:
leaving it out removes a package from every machine instead of adding one.
"""

from __future__ import annotations

from .handoff_server import GUEST_ADDRESS

QEMU = "qemu-system-aarch64"


def machine_args(cpus: int) -> list[str]:
    """Machine, CPU and memory (TCG: `cortex-a72` is 1.4–1.65x faster than `max` here)."""
    return ["-M", "virt", "-cpu", "cortex-a72", "-smp", str(cpus), "-m", "2048"]


def nic_args(forward: str) -> list[str]:
    """User-mode network with `restrict=on` and one guestfwd to `forward` (a `cmd:` relay)."""
    if "," in forward:
        raise ValueError(f"QEMU option values cannot contain commas: {forward}")
    netdev = f"user,id=net0,restrict=on,ipv6=off,guestfwd=tcp:{GUEST_ADDRESS}:80-{forward}"
    return ["-netdev", netdev, "-device", "virtio-net-pci,netdev=net0,romfile="]
