"""Decisions of the timer scripts (idle watchdog, Docker prune) and the IMDS block, with fake /proc,
clock, docker and iptables."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cloud_init.conftest import Host

REGISTERED_AT = 1_800_000_000


def fake_proc(root: Path, processes: dict[int, tuple[str, list[str]]]) -> Path:
    """A /proc with only `comm` and NUL-separated `cmdline` per pid."""
    proc = root / "proc"
    for pid, (comm, argv) in processes.items():
        (proc / str(pid)).mkdir(parents=True)
        (proc / str(pid) / "comm").write_text(comm + "\n")
        (proc / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (proc / "self").mkdir(parents=True, exist_ok=True)
    return proc


LISTENER = (
    "Runner.Listener",
    ["/opt/actions-runner/bin/Runner.Listener", "run", "--startuptype", "service"],
)
WORKER_NATIVE = ("Runner.Worker", ["/opt/actions-runner/bin/Runner.Worker", "spawnclient", "104", "107"])
# Under qemu-user without binfmt's P flag, comm is the interpreter and the worker is an argument.
WORKER_EMULATED = ("qemu-aarch64-st", ["/usr/bin/qemu-aarch64-static", "/opt/actions-runner/bin/Runner.Worker"])
SHELL = ("bash", ["/bin/bash", "-c", "echo Runner.Worker is just text here"])


@pytest.fixture
def idle_host(host_factory):
    def build(processes, registered=True, last_busy=None, **runner):
        host: Host = host_factory(**{"idle_timeout_minutes": 30, **runner})
        state = host.root / "var/lib/arm64-runner"
        state.mkdir(parents=True)
        if registered:
            (state / "registered").write_text(f"{REGISTERED_AT}\n")
        if last_busy is not None:
            (state / "last-busy").write_text(f"{last_busy}\n")
        host.env["ARM64_RUNNER_PROC"] = str(fake_proc(host.root, processes))
        return host

    return build


def powered_off(host: Host) -> bool:
    return any(line.startswith("poweroff") for line in host.shim("recorded").splitlines())


def run_idle(host: Host, minutes_after_registration: float) -> None:
    now = REGISTERED_AT + int(minutes_after_registration * 60)
    result = host.run("idle-watchdog.sh", ARM64_RUNNER_NOW=str(now))
    assert result.returncode == 0, result.stderr


def test_idle_past_timeout_powers_off(idle_host):
    host = idle_host({1: LISTENER, 2: SHELL})
    run_idle(host, 31)
    assert powered_off(host)
    assert "arm64-runner: IDLE for 1860s (limit 30m), powering off (idleAction=stop)" in host.console()


def test_idle_under_timeout_does_nothing(idle_host):
    host = idle_host({1: LISTENER})
    run_idle(host, 29)
    assert not powered_off(host)


@pytest.mark.parametrize("worker", [WORKER_NATIVE, WORKER_EMULATED], ids=["native", "emulated"])
def test_never_during_a_job(idle_host, worker):
    host = idle_host({1: LISTENER, 7: worker})
    run_idle(host, 600)
    assert not powered_off(host)
    last_busy = int((host.root / "var/lib/arm64-runner/last-busy").read_text())
    assert last_busy == REGISTERED_AT + 600 * 60


@pytest.mark.parametrize("vanished", ["comm", "cmdline"])
def test_a_process_ending_during_the_scan_is_skipped(idle_host, vanished):
    """/proc entries come and go: one whose files are gone is not an error, the decision still happens."""
    host = idle_host({1: LISTENER, 5: SHELL, 7: WORKER_NATIVE})
    (host.root / "proc" / "5" / vanished).unlink()
    run_idle(host, 600)
    assert not powered_off(host)
    assert int((host.root / "var/lib/arm64-runner/last-busy").read_text()) == REGISTERED_AT + 600 * 60
    idle = idle_host({1: LISTENER, 5: SHELL})
    (idle.root / "proc" / "5" / vanished).unlink()
    run_idle(idle, 31)
    assert powered_off(idle)


def test_idle_time_counts_from_the_last_job_seen(idle_host):
    host = idle_host({1: LISTENER}, last_busy=REGISTERED_AT + 100 * 60)
    run_idle(host, 120)
    assert not powered_off(host)
    run_idle(host, 131)
    assert powered_off(host)


def test_never_before_registration_completed(idle_host):
    host = idle_host({1: LISTENER}, registered=False)
    run_idle(host, 10_000)
    assert not powered_off(host)


def test_idle_action_none_never_powers_off(idle_host):
    host = idle_host({1: LISTENER}, idle_action="none")
    run_idle(host, 10_000)
    assert not powered_off(host)


def test_terminate_is_a_power_off_on_the_host(idle_host):
    host = idle_host({1: LISTENER}, idle_action="terminate", idle_timeout_minutes=5)
    run_idle(host, 5)
    assert powered_off(host)


def test_docker_prune_below_threshold(host_factory):
    host = host_factory(docker_prune_threshold_gb=1_000_000)
    result = host.run("docker-prune.sh", ARM64_RUNNER_DOCKER_ROOT=str(host.root))
    assert result.returncode == 0, result.stderr
    assert host.shim("recorded").splitlines() == [
        "docker system prune --all --force --filter until=1h",
        "docker builder prune --all --force",
    ]


def test_docker_prune_with_enough_space_does_nothing(host_factory):
    host = host_factory(docker_prune_threshold_gb=0)
    assert host.run("docker-prune.sh", ARM64_RUNNER_DOCKER_ROOT=str(host.root)).returncode == 0
    assert host.shim("recorded") == ""


def test_metadata_block_covers_containers_and_is_idempotent(host_factory):
    host = host_factory()
    for _ in range(2):
        result = host.run("block-metadata.sh", SHIM_DOCKER_USER="1")
        assert result.returncode == 0, result.stderr
    rules = host.shim("iptables.rules").splitlines()
    assert len(rules) == 2
    assert rules[0].startswith("OUTPUT -d 169.254.169.254/32 -m owner --uid-owner ")
    assert rules[1] == "DOCKER-USER -d 169.254.169.254/32 -j REJECT"
    assert host.shim("ip6tables.rules").splitlines()[1] == "DOCKER-USER -d fd00:ec2::254/128 -j REJECT"


def test_metadata_block_disabled(host_factory):
    host = host_factory(block_metadata=False)
    assert host.run("block-metadata.sh", SHIM_DOCKER_USER="1").returncode == 0
    assert host.shim("iptables.rules") == ""
