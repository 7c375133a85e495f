"""Proof that an emulated pool's runner runs its jobs as aarch64 on an x86_64 host.

The real rendered user-data of an `emulated` runner is installed and its bootstrap.sh run
(conftest.bootstrapped): binfmt registration, the arm64 tree, the stand-in runner download and
registration, the service installation. Then the service's ExecStart is executed as systemd
would (no systemd PID 1 here) and a job step is run through the same launcher.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from . import harness
from .conftest import Bootstrapped
from .docker_stub import DockerStub

pytestmark = pytest.mark.emulation

EM_AARCH64 = 183
EM_X86_64 = 62
HERE = Path(__file__).parent
RUNNER_IN_TREE = "/opt/actions-runner"


def elf_machine(path: Path) -> tuple[int, int]:
    """(EI_CLASS, e_machine) of an ELF file, read on the host."""
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return header[4], int.from_bytes(header[18:20], "little")


def facts(output: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def calls(root: Path, script: str) -> list[dict[str, list[str]]]:
    """The stand-in runner's call records for one entry point, oldest first."""
    records = []
    for path in sorted((root / "_fake" / "calls").glob(f"*-{script}")):
        record: dict[str, list[str]] = {}
        for line in path.read_text().splitlines():
            key, _, value = line.partition("=")
            record.setdefault(key, []).append(value)
        records.append(record)
    return records


def wait_for(condition, what: str, timeout: float = 300.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"gave up waiting for {what}")


def unit_commands(unit: Path, key: str) -> list[list[str]]:
    return [shlex.split(line.split("=", 1)[1]) for line in unit.read_text().splitlines() if line.startswith(key + "=")]


def test_binfmt_entry_has_fix_binary_and_credentials(binfmt_entry: str) -> None:
    entry = Path("/proc/sys/fs/binfmt_misc") / "arm64-runner-aarch64"
    lines = entry.read_text().splitlines()
    assert lines[0] == "enabled"
    flags = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("flags:"))
    assert "F" in flags and "C" in flags, flags
    assert next(line for line in lines if line.startswith("magic ")).endswith("0200b700")
    assert "arm64-runner-aarch64: enabled" in binfmt_entry


def test_binfmt_hook_is_idempotent(binfmt_entry: str) -> None:
    before = (Path("/proc/sys/fs/binfmt_misc") / "arm64-runner-aarch64").read_text()
    result = harness.run_binfmt_hook()
    assert "re-registering" not in result.stderr
    assert (Path("/proc/sys/fs/binfmt_misc") / "arm64-runner-aarch64").read_text() == before


def test_bootstrap_reports_ready_and_installs_the_emulated_service(bootstrapped: Bootstrapped) -> None:
    host = bootstrapped.host
    assert bootstrapped.bootstrap.returncode == 0, bootstrapped.bootstrap.stderr[-4000:]
    console = (host.prefix / "console").read_text()
    assert "READY name=arm64-proof-emulated-0 labels=self-hosted,linux,ARM64,emulated" in console
    unit = host.unit_dir / "arm64-runner-emulated.service"
    assert unit.read_bytes() == (host.lib / "variant" / "arm64-runner-emulated.service").read_bytes()
    systemctl = host.systemctl_log.read_text().splitlines()
    # A unit file systemd has never seen is read at its first start: no daemon-reload on the way to READY.
    assert "enable --now --no-reload arm64-runner-emulated.service" in systemctl
    assert "daemon-reload" not in systemctl
    # Not the runner's own svc.sh: its unit would run the runner on the x86_64 host.
    assert calls(host.runner_root, "svc.sh") == []


def test_registration_ran_inside_the_arm64_tree_with_the_token_only_in_the_environment(
    bootstrapped: Bootstrapped,
) -> None:
    host = bootstrapped.host
    [config] = calls(host.runner_root, "config.sh")
    assert config["uid"] == [str(bootstrapped.uid)]
    assert config["cwd"] == [RUNNER_IN_TREE], "config.sh did not run chrooted into the arm64 tree"
    assert config["ACTIONS_RUNNER_INPUT_TOKEN_present"] == ["1"]
    assert config["ACTIONS_RUNNER_INPUT_TOKEN_sha256"] == [hashlib.sha256(bootstrapped.token.encode()).hexdigest()]
    assert all(bootstrapped.token not in arg for arg in config.get("arg", []))
    assert (host.runner_root / ".runner").is_file()
    assert [r.status for r in bootstrapped.handoff.token_fetches()] == [200]


def test_no_qemu_binary_is_copied_into_the_tree(bootstrapped: Bootstrapped) -> None:
    """The F flag makes the host's interpreter serve the tree; nothing qemu lives in it."""
    found = [str(p) for p in bootstrapped.host.rootfs.rglob("qemu-*") if "aarch64" in p.name]
    assert found == []


def run_job_step(bootstrapped: Bootstrapped, docker_socket: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Place a step where the runner writes its step scripts and run it through the launcher."""
    temp = bootstrapped.host.runner_root / "_work" / "_temp"
    temp.mkdir(parents=True, exist_ok=True)
    for name in ("job_step.sh", "hello.c"):
        shutil.copy2(HERE / name, temp / name)
    for path in (temp.parent, temp, *temp.iterdir()):
        os.chown(path, bootstrapped.uid, -1)
    host = bootstrapped.host
    result = subprocess.run(
        [str(host.lib / "variant" / "run-as-runner.sh"), "_work/_temp/job_step.sh"],
        env=host.env(DOCKER_SOCKET=str(docker_socket)),
        capture_output=True,
        text=True,
        timeout=900,
    )
    return result, temp


def test_job_step_runs_as_aarch64_and_compiles_arm64(bootstrapped: Bootstrapped, tmp_path: Path) -> None:
    with DockerStub(tmp_path / "docker.sock") as docker:
        result, temp = run_job_step(bootstrapped, docker.socket_path)
    assert result.returncode == 0, result.stderr[-4000:]
    step = facts(result.stdout)
    assert step["uname_m"] == "aarch64"
    assert step["dpkg_arch"] == "arm64"
    assert step["uid"] == str(bootstrapped.uid)
    assert step["pwd"] == RUNNER_IN_TREE
    assert step["compiled_machine"] == "aarch64"
    assert elf_machine(temp / "hello") == (2, EM_AARCH64)
    # Setuid inside the tree works (binfmt C flag): job steps can `sudo apt-get install`.
    assert step["sudo_uid"] == "0"

    # Docker: the arm64 CLI in the tree reaches the host daemon through the bind-mounted socket,
    # and builds ask for linux/arm64 although the daemon is amd64.
    assert step["docker_default_platform"] == "linux/arm64"
    assert step["docker_host"] == "unix:///run/docker.sock"
    cli = bootstrapped.host.rootfs / step["docker_cli"].lstrip("/")
    assert elf_machine(cli) == (2, EM_AARCH64)
    assert step["docker_version"] == "arm64/amd64"
    builds = [path for method, path in docker.requests if method == "POST" and "/build" in path]
    assert builds, docker.requests
    assert "platform=linux%2Farm64" in builds[0]


def test_the_host_outside_is_x86_64(tmp_path: Path) -> None:
    """The negative: the same checks on the host's own shell give x86_64, so a runner started on the
    host (the old tool's bug) would fail the assertions above."""
    assert platform.machine() == "x86_64"
    shell = subprocess.run(
        ["bash", "-c", "uname -m; dpkg --print-architecture"], capture_output=True, text=True, check=True
    )
    assert shell.stdout.split() == ["x86_64", "amd64"]
    if shutil.which("cc"):
        subprocess.run(["cc", "-o", str(tmp_path / "hello"), str(HERE / "hello.c")], check=True)
        assert elf_machine(tmp_path / "hello") == (2, EM_X86_64)


def worker_processes(rootfs: Path) -> list[int]:
    """Host pids of Runner.Worker processes whose root directory is the tree.

    Matched like the idle watchdog does (comm, or an argv entry): the stand-in worker is a script,
    so its process is bash (under QEMU) with the worker's path among its arguments.
    """
    tree = os.stat(rootfs)
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            comm = (proc / "comm").read_text().strip()
            args = (proc / "cmdline").read_bytes().split(b"\0")
            is_worker = comm == "Runner.Worker" or any(arg.endswith(b"/Runner.Worker") for arg in args)
            if is_worker and os.path.samestat(os.stat(proc / "root"), tree):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def test_service_exec_start_runs_the_runner_in_the_tree(bootstrapped: Bootstrapped) -> None:
    """systemd's part done by hand: ExecStartPre then ExecStart, as root, with the unit's environment."""
    host = bootstrapped.host
    unit = host.unit_dir / "arm64-runner-emulated.service"
    for command in unit_commands(unit, "ExecStartPre"):
        subprocess.run([host.map_path(command[0]), *command[1:]], env=host.env(), check=True, capture_output=True)
    [start] = unit_commands(unit, "ExecStart")
    service = subprocess.Popen(
        [host.map_path(start[0]), *start[1:]], env=host.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        listener = wait_for(lambda: calls(host.runner_root, "Runner.Listener"), "Runner.Listener to start")[-1]
        assert listener["uid"] == [str(bootstrapped.uid)]
        assert listener["cwd"] == [RUNNER_IN_TREE]
        assert "DOCKER_DEFAULT_PLATFORM" in listener["env"]
        assert listener["ACTIONS_RUNNER_INPUT_TOKEN_present"] == ["0"]

        # A job: the stand-in Listener starts bin/Runner.Worker when told to.
        (host.runner_root / "_fake" / "job-seconds").write_text("20\n")
        # (Several pids: the worker script's own subshells carry the same argv.)
        workers = wait_for(lambda: worker_processes(host.rootfs), "Runner.Worker in the tree")
        checked = 0
        for worker in workers:
            try:
                status = Path(f"/proc/{worker}/status").read_text()
                exe = os.readlink(f"/proc/{worker}/exe")
            except FileNotFoundError:
                continue  # a short-lived subshell already gone
            assert f"Uid:\t{bootstrapped.uid}\t" in status
            # Under binfmt_misc the kernel runs the interpreter: the worker is an emulated arm64 process.
            assert "qemu-aarch64" in exe
            checked += 1
        assert checked >= 1

        # The idle watchdog (host side) sees a job running in the tree.
        now = "4102444800"
        watchdog = subprocess.run(
            [str(host.lib / "idle-watchdog.sh")],
            env=host.env(ARM64_RUNNER_NOW=now, ARM64_RUNNER_POWEROFF="false"),
            capture_output=True,
            text=True,
        )
        assert watchdog.returncode == 0, watchdog.stderr
        assert (host.state / "last-busy").read_text().strip() == now

        wait_for(lambda: not worker_processes(host.rootfs), "the job to end", timeout=600)
        service.send_signal(signal.SIGTERM)  # KillMode=process, KillSignal=SIGTERM
        assert service.wait(timeout=120) == 0
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(host.rootfs) not in mounts, "the launcher's mounts leaked into the host namespace"
