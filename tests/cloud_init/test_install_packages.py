"""The package step against a fake apt archive of each release the bootstrap claims.

Debian 13 splits the docker CLI (docker-cli) out of docker.io; Ubuntu 24.04 keeps it inside. The step
must leave a `docker` command that reaches the daemon and `docker buildx` on both, and name what is
missing otherwise (the e2e guest proves the same with Debian's real packages: tests/e2e).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.cloud_init.conftest import Host

#: What each fake package puts on the host: the daemon, the `docker` command, the buildx plugin.
DAEMON = 'touch "$FAKE_STATE/daemon"'
CLI = 'install -m 0755 "$FAKE_STATE/docker-cli" "$FAKE_BIN/docker"'
BUILDX = 'touch "$FAKE_STATE/buildx"'
PLAIN = ("git", "curl", "jq", "build-essential", "ca-certificates", "iptables", "tar", "gzip")
RELEASES = {
    "debian-13": {"docker.io": DAEMON, "docker-cli": CLI, "docker-buildx": BUILDX},
    "ubuntu-24.04": {"docker.io": f"{DAEMON}; {CLI}", "docker-buildx": BUILDX},
    "debian-12": {"docker.io": f"{DAEMON}; {CLI}"},
}
FAKE_APT_GET = """#!/bin/bash
set -euo pipefail
printf '%s\\n' "$*" >>"$FAKE_STATE/apt-get.calls"
packages=() installing=0
while [ $# -gt 0 ]; do
  case "$1" in
    -o) shift ;;
    install) installing=1 ;;
    -*|update) ;;
    *) packages+=("$1") ;;
  esac
  shift
done
[ "$installing" = 1 ] || exit 0
for p in "${packages[@]}"; do
  [ -f "$FAKE_ARCHIVE/$p" ] || { echo "E: Unable to locate package $p" >&2; exit 100; }
done
for p in "${packages[@]}"; do bash "$FAKE_ARCHIVE/$p"; done
"""
#: Like the real one, `policy` prints a long version table after the Candidate line (200 kB here: more
#: than a pipe holds), so a reader that stops early makes the writer die of SIGPIPE.
FAKE_APT_CACHE = """#!/bin/bash
[ "$1" = policy ] && [ -f "$FAKE_ARCHIVE/$2" ] || exit 0
printf '%s:\\n  Installed: (none)\\n  Candidate: 1.0\\n  Version table:\\n' "$2"
yes '     500 http://deb.debian.org/debian trixie/main arm64 Packages' | head -c 200000
"""
FAKE_DOCKER = """#!/bin/bash
case "$1" in
  version) [ -e "$FAKE_STATE/daemon" ] || { echo "Cannot connect to the Docker daemon" >&2; exit 1; }
           echo "docker 26.1.5 daemon 26.1.5" ;;
  buildx) [ -e "$FAKE_STATE/buildx" ] || { echo "docker: 'buildx' is not a docker command." >&2; exit 1; }
          echo "github.com/docker/buildx 0.13.1" ;;
  *) exit 1 ;;
esac
"""
#: Host tools the step may call; the PATH holds nothing else (a real docker must not answer).
TOOLS = (
    "bash",
    "sh",
    "grep",
    "timeout",
    "mkdir",
    "tr",
    "cat",
    "touch",
    "install",
    "rm",
    "basename",
    "env",
    "yes",
    "head",
)


def fake_release(root: Path, release: str) -> dict[str, str]:
    """PATH and settings that make apt-get/apt-cache/docker behave like `release`'s packages."""
    state, archive, fake_bin = root / "state", root / "archive", root / "bin"
    for directory in (state, archive, fake_bin):
        directory.mkdir(parents=True)
    for package, effect in {**dict.fromkeys(PLAIN, "true"), **RELEASES[release]}.items():
        (archive / package).write_text(effect + "\n")
    for name, text in (("apt-get", FAKE_APT_GET), ("apt-cache", FAKE_APT_CACHE)):
        (fake_bin / name).write_text(text)
        (fake_bin / name).chmod(0o755)
    (state / "docker-cli").write_text(FAKE_DOCKER)
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, tool
        (fake_bin / tool).symlink_to(found)
    return {"PATH": str(fake_bin), "FAKE_BIN": str(fake_bin), "FAKE_STATE": str(state), "FAKE_ARCHIVE": str(archive)}


def packaged_host(host_factory, tmp_path: Path, release: str) -> tuple[Host, dict[str, str]]:  # type: ignore[no-untyped-def]
    host = host_factory({"install_packages": True})
    return host, fake_release(tmp_path / release, release)


def installed(settings: dict[str, str]) -> list[str]:
    calls = Path(settings["FAKE_STATE"], "apt-get.calls").read_text().splitlines()
    install = next(line for line in calls if " install " in f" {line} ")
    return [word for word in install.split() if not word.startswith("-") and "=" not in word][1:]


@pytest.mark.parametrize("release", ["debian-13", "ubuntu-24.04"])
def test_docker_cli_daemon_and_buildx_on_each_claimed_release(host_factory, tmp_path: Path, release: str) -> None:  # type: ignore[no-untyped-def]
    host, settings = packaged_host(host_factory, tmp_path, release)
    done = host.run("install-packages.sh", **settings)
    assert done.returncode == 0, done.stderr
    assert "packages: docker 26.1.5 daemon 26.1.5; github.com/docker/buildx 0.13.1" in done.stderr
    wanted = installed(settings)
    assert {"docker.io", "docker-buildx", *PLAIN} <= set(wanted)
    assert ("docker-cli" in wanted) == (release == "debian-13")
    assert "enable --now --no-reload docker.service" in host.shim("systemctl.calls")


def test_without_docker_cli_in_the_list_debian_13_fails_naming_it(host_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A weakened copy of the step (docker-cli dropped from its list) on Debian 13: docker.io alone
    installs the daemon without a `docker` command, and the step says so."""
    host, settings = packaged_host(host_factory, tmp_path, "debian-13")
    script = host.lib / "install-packages.sh"
    text = script.read_text()
    assert "optional=(docker-cli docker-buildx)" in text
    script.write_text(text.replace("optional=(docker-cli docker-buildx)", "optional=(docker-buildx)"))
    done = host.run("bootstrap.sh", **settings)
    assert done.returncode != 0
    assert "arm64-runner: FAILED step=packages reason=docker-incomplete missing=docker-cli" in host.console()
    assert "docker-cli" not in installed(settings)


def test_a_release_without_buildx_fails_naming_it(host_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    host, settings = packaged_host(host_factory, tmp_path, "debian-12")
    done = host.run("bootstrap.sh", **settings)
    assert done.returncode != 0
    assert "FAILED step=packages reason=docker-incomplete missing=docker-buildx" in host.console()


def test_skipped_when_the_image_carries_the_packages(host_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    host = host_factory()
    settings = fake_release(tmp_path / "r", "debian-13")
    done = host.run("bootstrap.sh")
    assert done.returncode == 0 and "packages: skipped (INSTALL_PACKAGES=0)" in done.stderr
    assert "step packages" not in done.stderr
    assert not os.path.exists(Path(settings["FAKE_STATE"], "apt-get.calls"))


def test_the_runner_download_overlaps_the_package_installation(host_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """apt's install here finishes only once the verified runner tarball exists (bounded): the bootstrap
    must fetch and check it while the packages install. Dependencies are installed after both."""
    host, settings = packaged_host(host_factory, tmp_path, "debian-13")
    apt_get = Path(settings["FAKE_BIN"], "apt-get")
    verified = host.root / "var/lib/arm64-runner" / "actions-runner-2.331.0.tar.gz"
    apt_get.write_text(
        apt_get.read_text().replace(
            '[ "$installing" = 1 ] || exit 0\n',
            '[ "$installing" = 1 ] || exit 0\n'
            f'for _ in $(seq 1 100); do [ -e "{verified}" ] && break; sleep 0.1; done\n'
            f'[ -e "{verified}" ] || {{ echo "the runner was not fetched meanwhile" >&2; exit 100; }}\n'
            'date +%s%N >"$FAKE_STATE/installed-at"\n',
        )
    )
    for tool in ("seq", "sleep", "date", "curl", "sha256sum", "cut", "mv", "tar", "gzip", "chown", "id", "getent",
                 "printf", "sed", "sort", "chmod", "dirname", "readlink", "mktemp", "xargs", "uname", "ln"):  # fmt: skip
        if (found := shutil.which(tool)) and not Path(settings["FAKE_BIN"], tool).exists():
            Path(settings["FAKE_BIN"], tool).symlink_to(found)
    # svc.sh calls systemctl from PATH, like the runner's own.
    Path(settings["FAKE_BIN"], "systemctl").symlink_to(host.env["ARM64_RUNNER_SYSTEMCTL"])
    done = host.run("bootstrap.sh", **settings)
    assert done.returncode == 0, done.stdout + done.stderr + host.console()
    assert host.console().splitlines()[-1].startswith("arm64-runner: READY ")
    # Call records are named <epoch ns>-<pid>-<script>: the runner's dependencies came after the packages.
    [deps] = [
        p.name for p in (host.runner_root / "_fake/calls").iterdir() if p.name.endswith("-installdependencies.sh")
    ]
    assert int(deps.split("-")[0]) > int(Path(settings["FAKE_STATE"], "installed-at").read_text())


def test_the_package_step_waits_for_cloud_inits_apt_sources(host_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """cloud-init's config stage (apt-configure) is still running when the bootstrap starts: apt waits."""
    host, settings = packaged_host(host_factory, tmp_path, "ubuntu-24.04")
    systemctl = tmp_path / "systemctl"
    systemctl.write_text(
        "#!/bin/bash\n"
        'printf "%s\\n" "$*" >>"$SHIM_LOG/systemctl.calls"\n'
        '[ "$1" = show ] || exit 0\n'
        'n=$(grep -c "^show" "$SHIM_LOG/systemctl.calls")\n'
        'if [ "$n" -lt 3 ]; then printf "ActiveState=activating\\nJob=\\n"; exit 0; fi\n'
        'touch "$FAKE_STATE/apt-configured"; printf "ActiveState=active\\nJob=\\n"\n'
    )
    systemctl.chmod(0o755)
    apt_get = Path(settings["FAKE_BIN"], "apt-get")
    apt_get.write_text(
        apt_get.read_text().replace(
            "set -euo pipefail\n",
            'set -euo pipefail\n[ -e "$FAKE_STATE/apt-configured" ] || { echo "apt before apt-configure" >&2; exit 100; }\n',
        )
    )
    Path(settings["FAKE_BIN"], "sleep").symlink_to(shutil.which("sleep") or "/bin/sleep")
    done = host.run("install-packages.sh", **settings, ARM64_RUNNER_SYSTEMCTL=str(systemctl))
    assert done.returncode == 0, done.stderr
    assert "waiting for cloud-init's config stage (apt sources)" in done.stderr
    shows = [c for c in host.shim("systemctl.calls").splitlines() if c.startswith("show")]
    assert shows == ["show --property=ActiveState,Job cloud-config.service"] * 3
