"""One arm64 guest boot: NoCloud seed, restricted user-mode network, serial console to a file.

The guest's only reachable address is http://10.0.2.100/ (QEMU `guestfwd`), forwarded by
relay.py to the harness server on 127.0.0.1; `restrict=on` drops everything else, so no
packet leaves the host's loopback.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .disk import GuestFile, inject
from .image import BaseImage, copy_disk
from .qemu import QEMU, machine_args, nic_args

HERE = Path(__file__).parent
RELAY = HERE / "relay.py"
PROBE_FILES = [
    GuestFile(HERE / "guest" / "e2e-probe", "/usr/local/sbin/e2e-probe", 0o755),
    GuestFile(HERE / "guest" / "e2e-probe.service", "/etc/systemd/system/e2e-probe.service", 0o644),
]
#: Static guest network (no DHCP client in the image): slirp's default 10.0.2.0/24, with a default
#: route via slirp's gateway so off-harness traffic reaches slirp and is dropped there. Version 1:
#: v2's `gateway4` is deprecated (cloud-init then exits 2, "recoverable errors") and v2 `routes:`
#: render to net-tools `route` calls, which a minbase guest lacks.
NETWORK_CONFIG = {
    "version": 1,
    "config": [
        {
            "type": "physical",
            "name": "eth0",
            "subnets": [{"type": "static", "address": "10.0.2.15/24", "gateway": "10.0.2.2"}],
        }
    ],
}


@dataclass(frozen=True)
class ConsoleLine:
    seconds: float  # host monotonic seconds since qemu was started
    text: str


@dataclass
class BootResult:
    returncode: int
    wall_seconds: float
    serial: str
    lines: list[ConsoleLine] = field(default_factory=list)

    @property
    def timed_out(self) -> bool:
        """`timeout` exits 124 (or 137 after --kill-after) when the guest did not power off."""
        return self.returncode in (124, 137)

    def first(self, fragment: str) -> ConsoleLine | None:
        return next((line for line in self.lines if fragment in line.text), None)


def prepare_disk(image: BaseImage, dest: Path) -> Path:
    """A sparse private copy of the base disk with the harness probe installed."""
    copy_disk(image, dest)
    inject(dest, PROBE_FILES)
    return dest


def make_seed(workdir: Path, user_data: str, *, instance_id: str, hostname: str) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    user_data_file = workdir / "user-data"
    meta_data_file = workdir / "meta-data"
    network_file = workdir / "network-config"
    user_data_file.write_text(user_data)
    user_data_file.chmod(0o600)
    meta_data_file.write_text(yaml.safe_dump({"instance-id": instance_id, "local-hostname": hostname}))
    network_file.write_text(yaml.safe_dump(NETWORK_CONFIG))
    seed = workdir / "seed.img"
    subprocess.run(
        [
            "cloud-localds",
            f"--network-config={network_file}",
            str(seed),
            str(user_data_file),
            str(meta_data_file),
        ],
        check=True,
        capture_output=True,
    )
    return seed


def qemu_argv(
    image: BaseImage,
    disk: Path,
    seed: Path,
    serial: Path,
    *,
    server_port: int,
    kernel_args: list[str],
    cpus: int = 2,
) -> list[str]:
    forward = f"cmd:{sys.executable} {RELAY} 127.0.0.1 {server_port}"
    append = " ".join(["root=/dev/vda", "ro", "console=ttyAMA0", "net.ifnames=0", *kernel_args])
    return [
        QEMU,
        *machine_args(cpus),
        "-display", "none",
        "-monitor", "none",
        "-serial", f"file:{serial}",
        "-no-reboot",
        "-kernel", str(image.kernel),
        "-initrd", str(image.initrd),
        "-append", append,
        "-drive", f"file={disk},format=raw,if=virtio",
        "-drive", f"file={seed},format=raw,if=virtio,readonly=on",
        *nic_args(forward),
    ]  # fmt: skip


def boot(
    image: BaseImage,
    disk: Path,
    seed: Path,
    workdir: Path,
    *,
    server_port: int,
    boot_index: int = 1,
    mode: str = "poweroff",
    hold_seconds: int = 240,
    timeout_seconds: int = 900,
    docker_checks: bool = False,
    cpus: int = 2,
) -> BootResult:
    """Boot until the guest powers off (or `timeout` stops it); console timestamped on the host."""
    serial = workdir / f"serial-{boot_index}.log"
    serial.unlink(missing_ok=True)
    kernel_args = [
        "systemd.wants=e2e-probe.service",
        f"e2e.boot={boot_index}",
        f"e2e.mode={mode}",
        f"e2e.hold={hold_seconds}",
        f"e2e.docker={int(docker_checks)}",
    ]
    argv = [
        "timeout",
        "--kill-after=15",
        str(timeout_seconds),
        *qemu_argv(image, disk, seed, serial, server_port=server_port, kernel_args=kernel_args, cpus=cpus),
    ]
    (workdir / f"qemu-{boot_index}.cmd").write_text(shlex.join(argv) + "\n")
    started = time.monotonic()
    lines: list[ConsoleLine] = []
    with open(workdir / f"qemu-{boot_index}.stderr", "wb") as stderr:
        # Own process group: whatever happens here, the guest never outlives the harness.
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        try:
            watcher = _ConsoleWatcher(serial, started, lines)
            watcher.start()
            returncode = process.wait()
            watcher.stop()
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    wall = time.monotonic() - started
    text = serial.read_text(errors="replace") if serial.exists() else ""
    return BootResult(returncode, wall, text, lines)


class _ConsoleWatcher(threading.Thread):
    """Tails the serial file and stamps each complete line with host monotonic time."""

    def __init__(self, path: Path, started: float, sink: list[ConsoleLine]) -> None:
        super().__init__(daemon=True)
        self._path = path
        self._t0 = started
        self._sink = sink
        self._stopping = threading.Event()

    def run(self) -> None:
        offset = 0
        pending = b""
        while True:
            stopping = self._stopping.is_set()
            if self._path.exists():
                with open(self._path, "rb") as f:
                    f.seek(offset)
                    chunk = f.read()
                offset += len(chunk)
                pending += chunk
                now = time.monotonic() - self._t0
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    self._sink.append(ConsoleLine(now, raw.decode(errors="replace").rstrip("\r")))
            if stopping:
                if pending:
                    self._sink.append(ConsoleLine(time.monotonic() - self._t0, pending.decode(errors="replace")))
                return
            time.sleep(0.1)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)
