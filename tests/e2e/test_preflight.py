"""The preflight names what is missing, in seconds, and CI installs every package it may name."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from .preflight import ESSENTIAL, QEMU, TOOLS, missing_tools, problems, qemu_problem

CI_RUN = Path(__file__).resolve().parents[2] / ".ci" / "run"


def fake_bin(directory: Path, tools: set[str], qemu_script: str = "sleep 30") -> str:
    """A PATH holding stand-ins for `tools` (and a QEMU running `qemu_script`)."""
    directory.mkdir()
    for tool in tools:
        body = qemu_script if tool == QEMU else "exit 0"
        (directory / tool).write_text(f"#!/bin/sh\n{body}\n")
        (directory / tool).chmod(0o755)
    return str(directory)


def every_tool() -> set[str]:
    return {tool for section in TOOLS.values() for tool in section}


def test_a_missing_tool_is_named_with_its_package(tmp_path: Path) -> None:
    path = fake_bin(tmp_path / "bin", every_tool() - {"cloud-localds", "unshare"})
    assert missing_tools(["e2e"], path) == ["cloud-localds not found (apt-get install cloud-image-utils)"]
    assert missing_tools(["emulation"], path) == ["unshare not found (apt-get install util-linux)"]
    assert problems(["e2e", "emulation"], path=path, check_host=False, qemu_wait=0.2) == [
        "cloud-localds not found (apt-get install cloud-image-utils)",
        "unshare not found (apt-get install util-linux)",
    ]


def test_nothing_missing_is_silent(tmp_path: Path) -> None:
    assert (
        problems(["e2e", "emulation"], path=fake_bin(tmp_path / "bin", every_tool()), check_host=False, qemu_wait=0.2)
        == []
    )


def test_qemu_that_cannot_start_the_machine_is_reported_with_its_message(tmp_path: Path) -> None:
    """What a machine without ipxe-qemu printed before the NIC dropped its option ROM."""
    failing = 'echo "qemu-system-aarch64: failed to find romfile \\"efi-virtio.rom\\"" >&2; exit 1'
    path = fake_bin(tmp_path / "bin", {QEMU}, qemu_script=failing)
    assert qemu_problem(path, wait_seconds=10) == (
        'qemu-system-aarch64 cannot start the guest machine: qemu-system-aarch64: failed to find romfile "efi-virtio.rom"'
    )


def test_qemu_is_started_paused_with_the_guests_nic_and_left_running(tmp_path: Path) -> None:
    record = tmp_path / "argv"
    path = fake_bin(tmp_path / "bin", {QEMU}, qemu_script=f'echo "$@" >{record}; exec sleep 30')
    assert qemu_problem(path, wait_seconds=1) is None
    argv = record.read_text()
    assert " -S " in argv and "virtio-net-pci,netdev=net0,romfile=" in argv and "restrict=on" in argv
    assert stat.S_IMODE((Path(path) / QEMU).stat().st_mode) == 0o755


def test_ci_installs_every_package_the_preflight_can_name() -> None:
    script = CI_RUN.read_text()
    install = re.search(r"apt-get install -y -qq --no-install-recommends \\\n(.*?)>/dev/null", script, re.S)
    assert install, "no apt-get install line in .ci/run"
    installed = set(install.group(1).replace("\\", " ").split())
    named = {package for section in TOOLS.values() for package in section.values()} - ESSENTIAL
    assert named - installed == set()
