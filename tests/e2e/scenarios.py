"""What each e2e scenario boots, and the machinery that boots it (at most two guests at once).

A scenario is a user-data document (built once the harness server's URLs are known), a token
behaviour, a tarball (genuine or tampered) and one or more boots of the same disk. Its result
keeps the disk image so assertions read the guest's files back with debugfs.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .disk import read_text
from .handoff_server import TOKEN_PATH, HandoffServer, Request, TokenMode
from .image import BaseImage
from .vm import BootResult, boot, make_seed, prepare_disk

TarballKind = Literal["genuine", "tampered", "none"]
#: What the hand-off holds: a registration token, or (ephemeral runners) an encoded JIT config.
TokenKind = Literal["registration", "jit"]


@dataclass(frozen=True)
class Boot:
    mode: Literal["poweroff", "stay", "job"] = "poweroff"
    hold_seconds: int = 240
    timeout_seconds: int = 900
    #: The probe uses Docker as the runner user before ending the boot (e2e-probe docker_checks).
    docker_checks: bool = False
    #: Before this boot, a fresh token is put in the hand-off (what the wake function does before it
    #: starts a stopped ephemeral runner, or one GitHub no longer lists).
    new_token: bool = False


@dataclass(frozen=True)
class Context:
    """What a user-data builder may use: where the guest finds the harness, what is pinned."""

    token_url: str
    download_base_url: str
    runner_version: str
    runner_sha256: str  # the digest the stack pins (always the genuine tarball's)
    instance_id: str


@dataclass(frozen=True)
class Scenario:
    name: str
    user_data: Callable[[Context], str]
    boots: tuple[Boot, ...] = (Boot(),)
    token_mode: TokenMode = "ok"
    tarball: TarballKind = "genuine"
    token_kind: TokenKind = "registration"
    #: Rough guest wall time, to start the longest scenarios first.
    expected_seconds: int = 120


@dataclass
class ScenarioResult:
    scenario: Scenario
    workdir: Path
    disk: Path
    token: str
    context: Context
    boots: list[BootResult] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    #: Every token the hand-off held, in order (the first is `token`; Boot.new_token adds one).
    tokens: list[str] = field(default_factory=list)
    #: The tokens the hand-off actually served (HTTP 200), in order.
    served_tokens: list[str] = field(default_factory=list)
    #: The hand-off's requests during each boot (boot_requests[0]: boot 1).
    boot_requests: list[list[Request]] = field(default_factory=list)

    def guest_text(self, path: str) -> str | None:
        return read_text(self.disk, path)

    def snapshot(self, boot_index: int, label: str, name: str) -> str | None:
        return read_text(self.disk, f"/var/lib/e2e/boot-{boot_index}/{label}/{name}")

    def token_fetches(self, boot_index: int) -> list[Request]:
        """The hand-off reads of one boot (1-based)."""
        return [r for r in self.boot_requests[boot_index - 1] if r.path.split("?")[0] == TOKEN_PATH]

    def journal(self, boot_index: int) -> str | None:
        return read_text(self.disk, f"/var/lib/e2e/boot-{boot_index}/journal.txt")


#: Builds (tarball path, sha256) of a stand-in runner for `version` into a directory.
TarballBuilder = Callable[[Path, str], tuple[Path, str]]


def make_token() -> str:
    """Shaped like a GitHub registration token (29 upper-case alphanumerics), unique per run."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "A" + "".join(secrets.choice(alphabet) for _ in range(28))


def make_jit_config() -> str:
    """Shaped like GitHub's encoded_jit_config (base64 of the runner's files), unique per call."""
    return base64.b64encode(json.dumps({".runner": secrets.token_hex(48)}).encode()).decode()


def make_secret(kind: TokenKind) -> str:
    return make_jit_config() if kind == "jit" else make_token()


def tamper(genuine: Path, dest: Path) -> Path:
    """Same name, still a valid gzip/tar (trailing zero blocks are ignored when unpacking),
    different bytes: only the checksum can tell."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(genuine.read_bytes() + b"\0" * 1024)
    return dest


def run_scenario(
    image: BaseImage,
    scenario: Scenario,
    workdir: Path,
    *,
    runner_version: str,
    build_tarball: TarballBuilder | None,
    cpus: int = 2,
) -> ScenarioResult:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    served: Path | None = None
    sha256 = "0" * 64
    if scenario.tarball != "none":
        if build_tarball is None:
            raise RuntimeError(f"scenario {scenario.name} needs the stand-in runner tarball")
        genuine, sha256 = build_tarball(workdir / "tarball", runner_version)
        served = genuine if scenario.tarball == "genuine" else tamper(genuine, workdir / "tampered" / genuine.name)
    token = make_secret(scenario.token_kind)
    instance_id = f"e2e-{scenario.name}-{secrets.token_hex(4)}"
    with HandoffServer(token, served, scenario.token_mode, mirror=image.mirror) as server:
        context = Context(server.token_url, server.download_base_url, runner_version, sha256, instance_id)
        seed = make_seed(
            workdir / "seed", scenario.user_data(context), instance_id=instance_id, hostname=f"e2e-{scenario.name}"
        )
        disk = prepare_disk(image, workdir / "disk.raw")
        result = ScenarioResult(scenario, workdir, disk, token, context, tokens=[token])
        for index, spec in enumerate(scenario.boots, start=1):
            if spec.new_token:
                result.tokens.append(make_secret(scenario.token_kind))
                server.publish(result.tokens[-1])
            before = len(server.requests)
            result.boots.append(
                boot(
                    image,
                    disk,
                    seed,
                    workdir,
                    server_port=server.port,
                    boot_index=index,
                    mode=spec.mode,
                    hold_seconds=spec.hold_seconds,
                    timeout_seconds=spec.timeout_seconds,
                    docker_checks=spec.docker_checks,
                    cpus=cpus,
                )
            )
            result.boot_requests.append(server.requests[before:])
        result.requests = server.requests
        result.served_tokens = list(server.served_tokens)
    return result


class ScenarioPool:
    """Boots scenarios on a bounded number of workers (2 cores: two guests at once) and hands
    each test the result of its scenario, booting it on first request if not scheduled yet."""

    def __init__(
        self,
        image: BaseImage,
        root: Path,
        *,
        runner_version: str,
        build_tarball: TarballBuilder | None,
        workers: int = 2,
    ) -> None:
        self._image = image
        self._root = root
        self._runner_version = runner_version
        self._build_tarball = build_tarball
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="e2e-boot")
        # TCG runs each vCPU on its own host thread: more vCPUs than host cores in total makes
        # every guest much slower. Measured on 2 cores (uptime when cloud-init starts): one
        # 2-vCPU guest 63 s; two 2-vCPU guests 228 s each; two 1-vCPU guests 105 s each.
        self._cpus = max(1, (os.cpu_count() or 2) // workers)
        self._futures: dict[str, Future[ScenarioResult]] = {}
        self._lock = threading.Lock()

    def submit(self, scenario: Scenario) -> Future[ScenarioResult]:
        with self._lock:
            if scenario.name not in self._futures:
                self._futures[scenario.name] = self._executor.submit(
                    run_scenario,
                    self._image,
                    scenario,
                    self._root / scenario.name,
                    runner_version=self._runner_version,
                    build_tarball=self._build_tarball,
                    cpus=self._cpus,
                )
            return self._futures[scenario.name]

    def result(self, scenario: Scenario) -> ScenarioResult:
        return self.submit(scenario).result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
