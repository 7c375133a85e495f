"""The runner stack the e2e scenarios boot: real `components.bootstrap` rendering, pointed at
the harness server (http hand-off, stand-in runner tarball).

The package step (`BootstrapSpec.install_packages`) is on for the happy path only: its guest installs
Docker with the real apt from the harness's local mirror of Debian packages (build_image.sh,
mirror.py). The other scenarios skip it (INSTALL_PACKAGES=0) to keep their boots short; the image
carries git, curl, jq, iptables, sudo, tar, gzip and build-essential.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

from components.bootstrap import BootstrapSpec, TokenHandoff, render_user_data
from components.config.model import BASE_LABELS, IdleAction, RunnerSettings
from components.runner_releases import DEFAULT_VERSION
from tests.fixtures.fake_runner import build_tarball

from .scenarios import Context, TarballBuilder

RUNNER_VERSION = DEFAULT_VERSION
RUNNER_NAME = "arm64-e2e-qemu-0"
REGISTRATION_URL = "https://github.com/e2e-owner/e2e-repo"
LABELS = (*BASE_LABELS, "e2e", "large")
RUNNER_GROUP = "e2e-group"


def tarball_builder() -> TarballBuilder:
    return build_stand_in_tarball


#: Where the stand-in runner records its calls (tests/fixtures/fake-runner/bin/fake-record.sh).
RECORDS_DIR = "./_fake/calls/"


def build_stand_in_tarball(dest_dir: Path, version: str) -> tuple[Path, str]:
    """The fixture's stand-in tarball, plus its records directory pre-created world-writable.

    The stand-in records every call under <root>/_fake/calls. Created on demand, that directory
    belongs to whoever records first: `bin/installdependencies.sh`, run as root after the
    bootstrap chowns the tree to `runner`, so `config.sh` (as runner) could not record and
    failed. The real runner has no such directory, so shipping it in the archive (mode 1777)
    changes nothing the bootstrap does; it only lets every caller record.
    """
    path, _ = build_tarball(dest_dir, version)
    with tarfile.open(path, "r:gz") as archive:
        members = [(member, archive.extractfile(member)) for member in archive.getmembers()]
        if any(member.name.rstrip("/") + "/" == RECORDS_DIR for member, _ in members):
            return path, hashlib.sha256(path.read_bytes()).hexdigest()
        contents = [(member, data.read() if data else None) for member, data in members]
    records = tarfile.TarInfo(RECORDS_DIR.rstrip("/"))
    records.type = tarfile.DIRTYPE
    records.mode = 0o1777
    records.uname = records.gname = "root"
    buffer = io.BytesIO()
    parent = tarfile.TarInfo("./_fake")
    parent.type = tarfile.DIRTYPE
    parent.mode = 0o755
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.GNU_FORMAT) as archive,
    ):
        archive.addfile(parent)
        archive.addfile(records)
        for member, data in contents:
            archive.addfile(member, io.BytesIO(data) if data is not None else None)
    path.write_bytes(buffer.getvalue())
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def spec(
    context: Context,
    *,
    idle_timeout_minutes: int = 30,
    idle_action: IdleAction = "stop",
    install_packages: bool = False,
    ephemeral: bool = False,
) -> BootstrapSpec:
    runner = RunnerSettings(
        version=context.runner_version,
        sha256=context.runner_sha256,
        labels=LABELS[len(BASE_LABELS) :],
        name_prefix="arm64",
        idle_timeout_minutes=idle_timeout_minutes,
        idle_action=idle_action,
        disable_update=True,
        download_base_url=context.download_base_url,
        ephemeral=ephemeral,
    )
    return BootstrapSpec(
        runner_name=RUNNER_NAME,
        registration_url=REGISTRATION_URL,
        labels=LABELS,
        runner=runner,
        runner_group=RUNNER_GROUP,
        handoff=TokenHandoff("http.sh", {"TOKEN_URL": context.token_url}),
        install_packages=install_packages,
    )


def bootstrap_user_data(context: Context) -> str:
    return render_user_data(spec(context))


def packages_user_data(context: Context) -> str:
    """The production default: the package step installs Docker (from the harness's mirror)."""
    return render_user_data(spec(context, install_packages=True))


def idle_user_data(context: Context) -> str:
    """Idle watchdog at its smallest setting: one minute without a job powers the guest off."""
    return render_user_data(spec(context, idle_timeout_minutes=1, idle_action="stop"))


def ephemeral_user_data(context: Context) -> str:
    """An ephemeral runner: the hand-off holds an encoded JIT config, served to arm64-runner-jit.service."""
    return render_user_data(spec(context, ephemeral=True))


def empty_user_data(context: Context) -> str:
    """The baseline boot for the benchmark: cloud-init with nothing to do."""
    return "#cloud-config\n{}\n"
