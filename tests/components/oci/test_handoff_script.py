"""cloud-init/handoff/oci-metadata.sh against a fake OCI instance-metadata service (IMDSv2) on 127.0.0.1.

The fake behaves like OCI's v2 endpoint with legacy endpoints disabled: it answers only
`/opc/v2/instance/metadata/<key>` with `Authorization: Bearer Oracle`, refuses forwarded requests and
v1 paths, and can fail the first requests as an early-boot metadata service does.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from components.oci.handoff import EXPIRES_KEY, HANDOFF, TOKEN_KEY

SCRIPT = Path(__file__).resolve().parents[3] / "cloud-init" / "handoff" / HANDOFF.script
TOKEN = "AABBCCDDEEFFGGHHIIJJKKLLMMNNOOPP"
NOW = 1_795_000_000  # 2026-11-18T11:06:40Z, the test clock (ARM64_RUNNER_NOW)
IN_AN_HOUR = "2026-11-18T12:06:40Z"  # NOW + 3600 s
A_MINUTE_AGO = "2026-11-18T11:05:40Z"  # NOW - 60 s


@dataclass
class FakeImds:
    metadata: dict[str, str] = field(default_factory=dict)
    failures_before_ready: int = 0
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def imds() -> Iterator[FakeImds]:
    fake = FakeImds()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self, status: int, body: str = "") -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            fake.requests.append((self.path, dict(self.headers)))
            if fake.failures_before_ready > 0:
                fake.failures_before_ready -= 1
                return self._answer(503)
            forwarded = {"Forwarded", "X-Forwarded-For", "X-Forwarded-Host"} & set(self.headers)
            if self.headers.get("Authorization") != "Bearer Oracle" or forwarded:
                return self._answer(401)
            prefix = "/opc/v2/instance/metadata/"
            if not self.path.startswith(prefix):
                return self._answer(404)  # legacy /opc/v1 and /openstack paths are disabled
            key = self.path[len(prefix) :]
            if key not in fake.metadata:
                return self._answer(404)
            return self._answer(200, fake.metadata[key])

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/opc/v2"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def run_script(imds: FakeImds, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    etc = tmp_path / "etc"
    etc.mkdir(exist_ok=True)
    settings = "".join(f"{key}={value}\n" for key, value in HANDOFF.settings.items())
    (etc / "handoff.env").write_text(settings)
    environment = {
        "PATH": os.environ["PATH"],
        "ARM64_RUNNER_ETC": str(etc),
        "ARM64_RUNNER_NOW": str(NOW),
        "OCI_IMDS_BASE_URL": imds.url,
        "OCI_IMDS_ATTEMPTS": "3",
        "OCI_IMDS_RETRY_SECONDS": "0",
        # A proxy must never see the metadata request.
        "http_proxy": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        **env,
    }
    return subprocess.run(["bash", str(SCRIPT)], env=environment, capture_output=True, text=True, timeout=60)


def test_prints_the_token_read_over_imds_v2(imds, tmp_path):
    imds.metadata = {TOKEN_KEY: TOKEN, EXPIRES_KEY: IN_AN_HOUR}
    done = run_script(imds, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == TOKEN + "\n"
    assert TOKEN not in done.stderr
    paths = [path for path, _ in imds.requests]
    assert paths == [f"/opc/v2/instance/metadata/{TOKEN_KEY}", f"/opc/v2/instance/metadata/{EXPIRES_KEY}"]
    assert all(headers.get("Authorization") == "Bearer Oracle" for _, headers in imds.requests)


def test_reads_its_keys_from_handoff_env(imds, tmp_path):
    imds.metadata = {TOKEN_KEY: TOKEN}
    done = run_script(imds, tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == TOKEN


def test_missing_key_exits_3(imds, tmp_path):
    imds.metadata = {}
    done = run_script(imds, tmp_path)
    assert done.returncode == 3
    assert done.stdout == ""


def test_expired_token_exits_4_without_printing_it(imds, tmp_path):
    imds.metadata = {TOKEN_KEY: TOKEN, EXPIRES_KEY: A_MINUTE_AGO}
    done = run_script(imds, tmp_path)
    assert done.returncode == 4
    assert done.stdout == "" and TOKEN not in done.stderr


def test_a_token_expiring_within_a_minute_counts_as_expired(imds, tmp_path):
    imds.metadata = {TOKEN_KEY: TOKEN, EXPIRES_KEY: "2026-11-18T11:07:10Z"}  # NOW + 30 s
    assert run_script(imds, tmp_path).returncode == 4


def test_jit_config_without_expiry_key_is_handed_over(imds, tmp_path):
    jit = "eyJydW5uZXIiOiJtb2NrIn0" * 100
    imds.metadata = {TOKEN_KEY: jit}
    done = run_script(imds, tmp_path)
    assert done.returncode == 0 and done.stdout == jit + "\n"


def test_an_early_boot_metadata_service_is_retried(imds, tmp_path):
    imds.metadata = {TOKEN_KEY: TOKEN, EXPIRES_KEY: IN_AN_HOUR}
    imds.failures_before_ready = 2
    done = run_script(imds, tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == TOKEN


def test_an_unreachable_metadata_service_fails_after_bounded_attempts(imds, tmp_path):
    imds.metadata = {TOKEN_KEY: TOKEN}
    imds.failures_before_ready = 10
    done = run_script(imds, tmp_path)
    assert done.returncode == 1
    assert len(imds.requests) == 3
    assert "503" in done.stderr


def test_without_the_oracle_bearer_header_the_fake_refuses(imds, tmp_path):
    """Failing variant: the fake really checks the header, so the success above proves it is sent."""
    imds.metadata = {TOKEN_KEY: TOKEN}
    done = subprocess.run(
        [
            "curl",
            "--silent",
            "--noproxy",
            "*",
            "--write-out",
            "%{http_code}",
            "--output",
            "/dev/null",
            f"{imds.url}/instance/metadata/{TOKEN_KEY}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.stdout == "401"


def test_the_script_is_shellcheck_clean_and_strict():
    text = SCRIPT.read_text()
    assert "set -euo pipefail" in text
    shellcheck = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "shellcheck"
    done = subprocess.run([str(shellcheck), str(SCRIPT)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
