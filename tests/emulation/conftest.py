"""Fixtures of the emulation proof: the real emulated-variant hooks on this x86_64 machine.

Opt-in (root, minutes on a cold cache): `pytest -m emulation tests/emulation` or
ARM64_RUNNERS_EMULATION=1. Everything runs on the host, no VM: binfmt_misc is the host kernel's.
"""

from __future__ import annotations

import os
import platform
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from components.bootstrap import BootstrapSpec, TokenHandoff
from components.config.model import BASE_LABELS, EMULATED_LABEL, RunnerSettings
from components.runner_releases import DEFAULT_VERSION
from tests.e2e.handoff_server import TOKEN_PATH, HandoffServer
from tests.fixtures.fake_runner import build_tarball

from . import harness
from .host_install import InstalledHost, install

TOKEN = "AAAEMULATEDPROOFTOKEN0123456789"


def _requested(config: pytest.Config) -> bool:
    if os.environ.get("ARM64_RUNNERS_EMULATION") == "1":
        return True
    expression = str(config.getoption("markexpr") or "")
    return "emulation" in expression and "not emulation" not in expression


def _missing_requirements() -> str | None:
    if platform.machine() != "x86_64":
        return f"the proof is about an x86_64 host, this is {platform.machine()}"
    if os.geteuid() != 0:
        return "needs root (binfmt_misc, debootstrap, chroot, mount namespaces)"
    for tool in ("debootstrap", "unshare", "chroot", "qemu-aarch64-static"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (apt: debootstrap util-linux coreutils qemu-user-static)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    requested = _requested(config)
    missing = _missing_requirements() if requested else None
    for item in items:
        if not item.get_closest_marker("emulation"):
            continue
        if not requested:
            item.add_marker(pytest.mark.skip(reason="arm64 userland under qemu-user: `pytest -m emulation`"))
        elif missing:
            item.add_marker(pytest.mark.skip(reason=missing))


@dataclass
class Bootstrapped:
    host: InstalledHost
    user: str
    uid: int
    token: str
    timings: dict[str, float]
    bootstrap: subprocess.CompletedProcess[str]
    handoff: HandoffServer


@pytest.fixture(scope="session")
def binfmt_entry() -> str:
    result = harness.run_binfmt_hook()
    return result.stderr


@pytest.fixture(scope="session")
def bootstrapped(tmp_path_factory: pytest.TempPathFactory, binfmt_entry: str) -> Iterator[Bootstrapped]:
    """A host after cloud-init's runcmd: the rendered emulated user-data installed, then bootstrap.sh run.

    The arm64 tree comes from the recipe-keyed cache (built by the very rootfs.sh the user-data
    carries, same settings); bootstrap.sh's prepare step runs rootfs.sh again on a private copy.
    """
    work = tmp_path_factory.mktemp("emulated-host")
    cached, timings = harness.cached_rootfs()
    rootfs = work / "rootfs"
    timings["copy_s"] = harness.copy_tree(cached, rootfs)

    tarball, sha256 = build_tarball(work / "releases", DEFAULT_VERSION)
    with HandoffServer(TOKEN, tarball) as handoff:
        base = f"http://127.0.0.1:{handoff.port}"
        runner = RunnerSettings(
            version=DEFAULT_VERSION,
            sha256=sha256,
            labels=(),
            idle_action="stop",
            block_metadata=False,
            download_base_url=f"{base}/runner",
        )
        spec = BootstrapSpec(
            runner_name="arm64-proof-emulated-0",
            registration_url="https://github.com/proof-owner/proof-repo",
            labels=(*BASE_LABELS, EMULATED_LABEL),
            runner=runner,
            runner_group=None,
            handoff=TokenHandoff("http.sh", {"TOKEN_URL": f"{base}{TOKEN_PATH}"}),
            variant="emulated",
            install_packages=False,
        )
        settings = {**harness.rootfs_settings(), "ROOTFS_DIR": str(rootfs)}
        host = install(spec, work / "host", rootfs, settings)
        # The stand-in's record directory must exist before the download step's chown: otherwise
        # installdependencies.sh (run as root) creates it root-owned and the runner user cannot record.
        (host.runner_root / "_fake" / "calls").mkdir(parents=True)
        result = subprocess.run(
            [str(host.lib / "bootstrap.sh")], env=host.env(), capture_output=True, text=True, timeout=1800
        )
        user = pwd.getpwnam(harness.PROOF_USER)
        yield Bootstrapped(host, user.pw_name, user.pw_uid, TOKEN, timings, result, handoff)
    # The host account stays: the cached tree holds the same uid, and rootfs.sh refuses a mismatch.
    shutil.rmtree(rootfs, ignore_errors=True)
