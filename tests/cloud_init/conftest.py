"""Runs the real bootstrap scripts, exactly as rendered into user-data, inside a temporary root.

`install_host` plays cloud-init's write_files: every entry of a render lands at `<tmp>/<path>`. The
scripts are then pointed at that tree through the ARM64_RUNNER_* overrides documented in
cloud-init/README.md, with test shims (tests/cloud_init/shims/) for runuser, systemctl, iptables, docker
and poweroff. The stand-in runner (tests/fixtures/fake-runner/) records how it was called.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from components.bootstrap import BootstrapSpec, TokenHandoff, host_files, render_user_data
from components.config.model import RunnerSettings
from tests.fixtures.fake_runner import build_tarball

SHIMS = Path(__file__).parent / "shims"
TOKEN = "AABBCCTESTREGISTRATIONTOKEN0123456789"
JIT_CONFIG = "eyJydW5uZXIiOiJmYWtlLWppdC1jb25maWcifQ=="
#: An existing unprivileged account of the test machine stands in for `runner`.
RUNNER_USER = "nobody"

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="svc.sh/installdependencies.sh stand-ins need root")


@dataclass
class Host:
    root: Path
    env: dict[str, str]
    runner_root: Path
    shim_log: Path
    started: list[int] = field(default_factory=list)

    @property
    def lib(self) -> Path:
        return self.root / "usr/local/lib/arm64-runner"

    def run(self, script: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **extra}
        return subprocess.run(
            [str(self.lib / script), *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    def start(self, script: str, *args: str, **extra: str) -> subprocess.Popen[str]:
        """The script in the background (e.g. the first-boot unit while `bootstrap.sh await` waits)."""
        env = {**self.env, **extra}
        return subprocess.Popen(
            [str(self.lib / script), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def console(self) -> str:
        path = self.root / "console"
        return path.read_text() if path.exists() else ""

    def calls(self, script: str | None = None) -> list[dict[str, list[str]]]:
        """The stand-in runner's call records, oldest first; each key maps to its values in order."""
        directory = self.runner_root / "_fake/calls"
        records = []
        for path in sorted(directory.iterdir()) if directory.is_dir() else []:
            if path.suffix == ".partial":
                continue
            record: dict[str, list[str]] = {}
            for line in path.read_text().splitlines():
                key, _, value = line.partition("=")
                record.setdefault(key, []).append(value)
            if script is None or record["script"] == [script]:
                records.append(record)
        return records

    def shim(self, name: str) -> str:
        path = self.shim_log / name
        return path.read_text() if path.exists() else ""

    def files_containing(self, needle: str) -> list[Path]:
        found = []
        for path in self.root.rglob("*"):
            if path.is_file() and not path.is_symlink() and needle.encode() in path.read_bytes():
                found.append(path)
        return found

    def stop_started(self) -> None:
        for pid_line in self.shim("pids").split():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(pid_line), 15)


def make_spec(tmp_path: Path, token_url: str = "http://127.0.0.1:9/token", **runner: object) -> BootstrapSpec:
    """A spec whose runner download points at the stand-in tarball under tmp_path/releases."""
    _, sha = build_tarball(tmp_path / "releases", "2.331.0")
    settings = RunnerSettings(
        version="2.331.0",
        sha256=sha,
        download_base_url=(tmp_path / "releases").as_uri(),
        idle_timeout_minutes=1,
    )
    return BootstrapSpec(
        runner_name="arm64-test-default-0",
        registration_url="https://github.com/octo/widgets",
        labels=("self-hosted", "linux", "ARM64", "large"),
        runner=replace(settings, **runner),  # type: ignore[arg-type]
        runner_group=None,
        handoff=TokenHandoff("http.sh", {"TOKEN_URL": token_url}),
        install_packages=False,
    )


def install_host(user_data: str, root: Path) -> Host:
    """Write every file of the user-data under `root`, like cloud-init and the first-boot unit's unpacking
    of the archive would on a real host."""
    assert user_data.startswith("#cloud-config\n")
    for entry in host_files(user_data).values():
        target = root / entry["path"].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(entry["content"])
        target.chmod(int(entry["permissions"], 8))
    env_file = root / "etc/arm64-runner/runner.env"
    env_file.write_text(env_file.read_text().replace("RUNNER_USER=runner", f"RUNNER_USER={RUNNER_USER}"))
    shim_log = root / "shim-log"
    shim_log.mkdir()
    (root / "var/log").mkdir(parents=True)
    runner_root = root / "opt/actions-runner"
    env = {
        "PATH": f"{SHIMS}:{os.environ['PATH']}",
        "HOME": str(root),
        "LANG": "C.UTF-8",
        "SHIM_LOG": str(shim_log),
        "ARM64_RUNNER_ETC": str(root / "etc/arm64-runner"),
        "ARM64_RUNNER_LIB": str(root / "usr/local/lib/arm64-runner"),
        "ARM64_RUNNER_STATE": str(root / "var/lib/arm64-runner"),
        "ARM64_RUNNER_RUN": str(root / "run/arm64-runner"),
        "ARM64_RUNNER_CONSOLE": str(root / "console"),
        "ARM64_RUNNER_LOG": str(root / "var/log/arm64-runner-bootstrap.log"),
        "ARM64_RUNNER_RUNUSER": str(SHIMS / "runuser"),
        "ARM64_RUNNER_SYSTEMCTL": str(SHIMS / "systemctl"),
        "ARM64_RUNNER_IPTABLES": str(SHIMS / "iptables"),
        "ARM64_RUNNER_IP6TABLES": str(SHIMS / "ip6tables"),
        "ARM64_RUNNER_POWEROFF": str(SHIMS / "poweroff"),
        "ARM64_RUNNER_DOCKER": str(SHIMS / "docker"),
        "ARM64_RUNNER_JIT_WAIT": "20",
        "RUNNER_ROOT": str(runner_root),
        "FAKE_RUNNER_UNIT_DIR": str(root / "etc/systemd/system"),
        "ARM64_RUNNER_UNIT_DIR": str(root / "etc/systemd/system"),
    }
    return Host(root=root, env=env, runner_root=runner_root, shim_log=shim_log)


class TokenServer:
    """Serves GET /token on 127.0.0.1 with a chosen status and body, like the cloud's hand-off source."""

    def __init__(self) -> None:
        self.status = 200
        self.body = TOKEN
        self.requests = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                payload = server.body.encode() if server.status == 200 else b"gone"
                self.send_response(server.status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def token_server() -> Iterator[TokenServer]:
    server = TokenServer()
    yield server
    server.close()


@pytest.fixture
def host_factory(tmp_path: Path, token_server: TokenServer) -> Iterator[object]:
    """host_factory(**runner_settings) -> Host with the rendered bootstrap of such a runner installed."""
    hosts: list[Host] = []

    def build(spec_changes: dict[str, object] | None = None, **runner: object) -> Host:
        spec = make_spec(tmp_path, token_server.url, **runner)
        if spec_changes:
            spec = replace(spec, **spec_changes)  # type: ignore[arg-type]
        root = tmp_path / f"host{len(hosts)}"
        host = install_host(render_user_data(spec), root)
        hosts.append(host)
        return host

    yield build
    for host in hosts:
        host.stop_started()


def require_tools(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.skip(f"missing tools: {missing}")
