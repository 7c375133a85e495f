"""Preflight of the real-boot sections: every tool, firmware file and privilege they need, in seconds.

    python3 -m tests.e2e.preflight e2e emulation     (.ci/run, `make e2e`, `make emulation-test`)

Prints one line per problem, naming the Debian package to install, and exits 1 if there is any, so a
machine missing a package fails before a 10-minute arm64 build instead of after it. Standard
library only: it runs before the virtualenv exists. The QEMU check starts the guests' real machine
and NIC (paused, then killed), which is how a missing firmware file (e.g. an option ROM) shows.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from .qemu import QEMU, machine_args, nic_args

#: Tool -> Debian package, per section. Every package here is installed by .ci/run
#: (tests/e2e/test_preflight.py checks), except the essential ones (coreutils, util-linux, dpkg).
TOOLS: Mapping[str, Mapping[str, str]] = {
    "e2e": {
        QEMU: "qemu-system-arm",
        "qemu-aarch64-static": "qemu-user-static",
        "update-binfmts": "binfmt-support",
        "mmdebstrap": "mmdebstrap",
        "arch-test": "arch-test",
        "cloud-localds": "cloud-image-utils",
        "debugfs": "e2fsprogs",
        "mkfs.ext4": "e2fsprogs",
        "zstd": "zstd",
        "dpkg-deb": "dpkg",
        "flock": "util-linux",
        "timeout": "coreutils",
    },
    "emulation": {
        "debootstrap": "debootstrap",
        "qemu-aarch64-static": "qemu-user-static",
        "unshare": "util-linux",
        "chroot": "coreutils",
        "gcc": "gcc",
    },
}
ESSENTIAL = {"coreutils", "util-linux", "dpkg"}
#: Where the image (+ tree + mirror) is cached and where scenario disks go.
SPACE_GIB = {"e2e": ((os.environ.get("E2E_CACHE", "/var/cache"), 6), ("/var/tmp", 10)), "emulation": ()}
BINFMT_ENTRY = Path("/usr/share/binfmts/qemu-aarch64")


def search_path() -> str:
    """The caller's PATH plus the sbin directories root's tools live in (a plain user PATH lacks them)."""
    extra = ["/usr/local/sbin", "/usr/sbin", "/sbin"]
    parts = os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
    return os.pathsep.join(parts + [p for p in extra if p not in parts])


def missing_tools(sections: Iterable[str], path: str) -> list[str]:
    wanted: dict[str, str] = {}
    for section in sections:
        wanted.update(TOOLS[section])
    return [
        f"{tool} not found (apt-get install {package})"
        for tool, package in wanted.items()
        if shutil.which(tool, path=path) is None
    ]


def qemu_problem(path: str, wait_seconds: float = 3.0) -> str | None:
    """Start the guests' machine and NIC paused; any error in the first seconds (a missing ROM,
    an unknown device or CPU) is returned as QEMU printed it."""
    qemu = shutil.which(QEMU, path=path)
    if qemu is None:
        return None  # reported by missing_tools
    argv = [qemu, *machine_args(1), *nic_args("cmd:/bin/true"), "-S", "-display", "none", "-monitor", "none"]
    argv += ["-serial", "none", "-no-reboot"]
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        _, err = process.communicate(timeout=wait_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return None  # still running, paused: the machine and its devices are complete
    message = err.decode(errors="replace").strip() or f"exit status {process.returncode}"
    return f"{QEMU} cannot start the guest machine: {message}"


def problems(
    sections: list[str], *, path: str | None = None, check_host: bool = True, qemu_wait: float = 3.0
) -> list[str]:
    path = path or search_path()
    found = missing_tools(sections, path)
    if "e2e" in sections and (problem := qemu_problem(path, qemu_wait)) is not None:
        found.append(problem)
    if not check_host:
        return found
    if os.geteuid() != 0:
        found.append("must run as root (mmdebstrap, debootstrap, chroot, binfmt_misc, debugfs on root-owned images)")
    if platform.machine() != "x86_64":
        found.append(f"the proofs are about an x86_64 host; this is {platform.machine()}")
    if "binfmt_misc" not in Path("/proc/filesystems").read_text():
        found.append("the kernel has no binfmt_misc (needed to run arm64 programs under qemu-user)")
    if "e2e" in sections and not BINFMT_ENTRY.exists():
        found.append(f"{BINFMT_ENTRY} missing (apt-get install qemu-user-static binfmt-support)")
    for section in sections:
        for directory, gib in SPACE_GIB[section]:
            free = shutil.disk_usage(directory).free / 2**30 if os.path.isdir(directory) else 0.0
            if free < gib:
                found.append(f"{directory}: {free:.1f} GiB free, the {section} section needs {gib} GiB")
    return found


def main(argv: list[str]) -> int:
    sections = argv or ["e2e", "emulation"]
    unknown = [s for s in sections if s not in TOOLS]
    if unknown:
        print(f"usage: python3 -m tests.e2e.preflight [{'|'.join(TOOLS)}]...", file=sys.stderr)
        return 2
    found = problems(sections)
    for problem in found:
        print(f"preflight: {problem}", file=sys.stderr)
    if not found:
        print(f"preflight: {' + '.join(sections)}: every tool, firmware file and privilege is in place")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
