"""Install a rendered emulated-variant user-data under a prefix, as cloud-init's write_files would.

The proof runs the real rendered files (components.bootstrap.render_user_data with
variant="emulated"), not the repository copies, so what it exercises is what a host receives.
Production paths are mapped under `prefix` and handed to the scripts through the documented
ARM64_RUNNER_* overrides (cloud-init/README.md, *Overrides for tests*).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from components.bootstrap import ETC, LIB, UNIT_DIR, BootstrapSpec, host_files, render_user_data

SHIMS = Path(__file__).parent / "shims"


@dataclass(frozen=True)
class InstalledHost:
    prefix: Path
    rootfs: Path
    state: Path
    user_data: str

    @property
    def lib(self) -> Path:
        return self.prefix / LIB.lstrip("/")

    @property
    def etc(self) -> Path:
        return self.prefix / ETC.lstrip("/")

    @property
    def unit_dir(self) -> Path:
        return self.prefix / UNIT_DIR.lstrip("/")

    @property
    def runner_root(self) -> Path:
        return self.rootfs / "opt" / "actions-runner"

    @property
    def systemctl_log(self) -> Path:
        return self.prefix / "systemctl.log"

    def map_path(self, production_path: str) -> str:
        """A production absolute path (e.g. a unit's ExecStart) as installed under the prefix."""
        for root in (LIB, ETC, UNIT_DIR):
            if production_path == root or production_path.startswith(root + "/"):
                return str(self.prefix / production_path.lstrip("/"))
        return production_path

    def env(self, **extra: str) -> dict[str, str]:
        """What a systemd service or cloud-init gives the scripts, plus the test overrides."""
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
            "ARM64_RUNNER_ETC": str(self.etc),
            "ARM64_RUNNER_LIB": str(self.lib),
            "ARM64_RUNNER_STATE": str(self.state),
            "ARM64_RUNNER_RUN": str(self.prefix / "run"),
            "ARM64_RUNNER_CONSOLE": str(self.prefix / "console"),
            "ARM64_RUNNER_SYSTEMCTL": str(SHIMS / "systemctl"),
            "ARM64_RUNNER_UNIT_DIR": str(self.unit_dir),
            "SYSTEMCTL_SHIM_LOG": str(self.systemctl_log),
        }
        env.update(extra)
        return env


def install(spec: BootstrapSpec, prefix: Path, rootfs: Path, settings: dict[str, str]) -> InstalledHost:
    """Write every write_files entry under `prefix`; `settings` are appended to runner.env.

    `settings` carries what this machine needs on top of the rendered defaults: the rootfs
    location and the Debian mirror/suite (rootfs.sh's ROOTFS_* settings), the proof's user.
    """
    user_data = render_user_data(spec)
    host = InstalledHost(prefix=prefix, rootfs=rootfs, state=prefix / "state", user_data=user_data)
    for entry in host_files(user_data).values():
        target = prefix / entry["path"].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(entry["content"])
        os.chmod(target, int(entry.get("permissions", "0644"), 8))
    runner_env = host.etc / "runner.env"
    extra = "".join(f"{key}='{value}'\n" for key, value in settings.items())
    runner_env.write_text(runner_env.read_text() + extra)
    return host
