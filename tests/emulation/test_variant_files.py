"""Fast checks of the emulated variant's files as rendered into user-data (no root, no QEMU)."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from components.bootstrap import LIB, BootstrapSpec, TokenHandoff, host_files, render_user_data, rendered_content
from components.config.model import BASE_LABELS, EMULATED_LABEL, RunnerSettings

from .host_install import install

VARIANT = Path(__file__).resolve().parents[2] / "cloud-init" / "variants" / "emulated"
UNIT = "arm64-runner-emulated.service"


def spec(*, ephemeral: bool = False) -> BootstrapSpec:
    return BootstrapSpec(
        runner_name="arm64-unit-emulated-0",
        registration_url="https://github.com/o/r",
        labels=(*BASE_LABELS, EMULATED_LABEL),
        runner=RunnerSettings(version="2.331.0", sha256="a" * 64, ephemeral=ephemeral),
        runner_group=None,
        handoff=TokenHandoff("http.sh", {"TOKEN_URL": "http://127.0.0.1:9/token"}),
        variant="emulated",
    )


def written_files(user_data: str) -> dict[str, str]:
    return {path: entry["content"] for path, entry in host_files(user_data).items()}


def test_rendered_user_data_carries_the_emulated_hooks_over_the_native_ones() -> None:
    files = written_files(render_user_data(spec()))
    for name in (
        "env.sh",
        "prepare.sh",
        "run-as-runner.sh",
        "install-service.sh",
        "binfmt.sh",
        "rootfs.sh",
        "enter-rootfs.sh",
        UNIT,
    ):
        assert files[f"{LIB}/variant/{name}"] == rendered_content(VARIANT / name), name


def test_every_command_of_the_unit_is_a_rendered_executable() -> None:
    user_data = render_user_data(spec())
    modes = {path: entry["permissions"] for path, entry in host_files(user_data).items()}
    unit = written_files(user_data)[f"{LIB}/variant/{UNIT}"]
    commands = [
        shlex.split(line.split("=", 1)[1])[0]
        for line in unit.splitlines()
        if line.startswith(("ExecStart=", "ExecStartPre="))
    ]
    assert commands == [f"{LIB}/variant/binfmt.sh", f"{LIB}/variant/run-as-runner.sh"]
    assert all(modes[command] == "0755" for command in commands)


def _install_service(tmp_path: Path, *, ephemeral: bool) -> tuple[Path, list[str]]:
    host = install(spec(ephemeral=ephemeral), tmp_path / "host", tmp_path / "rootfs", {})
    host.unit_dir.mkdir(parents=True, exist_ok=True)
    script = host.lib / "variant" / "install-service.sh"
    for _ in range(2):  # idempotent: a second run changes nothing but re-asserts the unit is started
        subprocess.run([str(script)], env=host.env(), check=True, capture_output=True, text=True)
    return host.unit_dir, host.systemctl_log.read_text().splitlines()


def test_install_service_installs_and_starts_the_emulated_unit_not_svc_sh(tmp_path: Path) -> None:
    unit_dir, systemctl = _install_service(tmp_path, ephemeral=False)
    assert (unit_dir / UNIT).read_text() == rendered_content(VARIANT / UNIT)
    assert systemctl.count(f"enable --now --no-reload {UNIT}") == 2
    # A unit file systemd has never seen needs no reload; only one replaced under it does.
    assert "daemon-reload" not in systemctl


def test_install_service_reloads_only_for_a_replaced_unit_file(tmp_path: Path) -> None:
    host = install(spec(ephemeral=False), tmp_path / "host", tmp_path / "rootfs", {})
    host.unit_dir.mkdir(parents=True, exist_ok=True)
    (host.unit_dir / UNIT).write_text("[Service]\nExecStart=/bin/true\n")  # an older version of the unit
    script = host.lib / "variant" / "install-service.sh"
    subprocess.run([str(script)], env=host.env(), check=True, capture_output=True, text=True)
    assert host.systemctl_log.read_text().splitlines() == ["daemon-reload", f"enable --now --no-reload {UNIT}"]
    assert (host.unit_dir / UNIT).read_text() == rendered_content(VARIANT / UNIT)


def test_install_service_uses_the_shared_jit_unit_when_ephemeral(tmp_path: Path) -> None:
    unit_dir, systemctl = _install_service(tmp_path, ephemeral=True)
    assert not (unit_dir / UNIT).exists()
    assert systemctl.count("enable --now --no-reload arm64-runner-jit.service") == 2


def test_enter_rootfs_refuses_a_runner_directory_outside_the_tree(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(VARIANT / "enter-rootfs.sh"), "run.sh"],
        env={"PATH": "/usr/bin:/bin", "ROOTFS_DIR": str(tmp_path / "rootfs"), "RUNNER_ROOT": "/opt/actions-runner"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "is not inside ROOTFS_DIR" in result.stderr
