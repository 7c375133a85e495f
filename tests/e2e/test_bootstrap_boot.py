"""The cloud-init bootstrap on a real arm64 boot (Debian trixie, real cloud-init, real systemd).

Each scenario boots the real rendered user-data (components.bootstrap) against the harness
server; every assertion reads what the guest left on its disk (debugfs) or its console.
The happy path runs the package step for real: the guest's apt installs Docker from the harness's
local mirror of Debian's packages, and the probe uses it as the runner user.
Not exercised here: the real runner binary (a stand-in with the real layout records its
calls), a registry (the container image is made from the mirror's busybox-static), a real cloud's hand-off.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

import pytest

from .disk import account, can_read, files_containing, guest_path, raw_offsets, rdump
from .records import RUNNER_ROOT, calls, flag_value, report_lines, service_states
from .scenarios import Boot, Scenario, ScenarioResult
from .stack import (
    LABELS,
    REGISTRATION_URL,
    RUNNER_GROUP,
    RUNNER_NAME,
    bootstrap_user_data,
    ephemeral_user_data,
    idle_user_data,
    packages_user_data,
)

#: The production default (package step on): Docker installed from the mirror, then used by the probe.
HAPPY = Scenario(
    "happy-reboot",
    packages_user_data,
    boots=(Boot(docker_checks=True, timeout_seconds=1500), Boot()),
    expected_seconds=900,
)
TAMPERED = Scenario("checksum-mismatch", bootstrap_user_data, tarball="tampered")
TOKEN_MISSING = Scenario("token-missing", bootstrap_user_data, token_mode="missing")
TOKEN_EXPIRED = Scenario("token-expired", bootstrap_user_data, token_mode="expired")
#: Boot 2 is the wake path: the disk the watchdog powered off boots again (as when the wake function
#: starts the stopped instance of a runner GitHub still lists) and the hand-off has nothing new.
IDLE = Scenario(
    "idle-poweroff",
    idle_user_data,
    boots=(Boot(mode="stay", timeout_seconds=900), Boot(mode="stay", timeout_seconds=900)),
    expected_seconds=480,
)
#: An ephemeral runner woken for a job: the wake function put a fresh JIT config in the hand-off first.
EPHEMERAL = Scenario(
    "ephemeral-wake",
    ephemeral_user_data,
    boots=(Boot(), Boot(new_token=True)),
    token_kind="jit",
    expected_seconds=300,
)
#: A job of 4 minutes against a 1-minute idle limit: the watchdog ticks at least three times during it.
BUSY = Scenario(
    "idle-busy", idle_user_data, boots=(Boot(mode="job", hold_seconds=240, timeout_seconds=900),), expected_seconds=360
)

pytestmark = pytest.mark.e2e
LABEL_TEXT = ",".join(LABELS)
SERVICE = f"actions.runner.fake.{RUNNER_NAME}.service"


def powered_off_by_itself(result: ScenarioResult, boot_index: int) -> None:
    boot = result.boots[boot_index - 1]
    assert not boot.timed_out, f"boot {boot_index} did not power off within its timeout; see {result.workdir}"
    assert boot.returncode == 0, f"qemu exited {boot.returncode}; see {result.workdir}"


def cloud_init_status(result: ScenarioResult, boot_index: int) -> tuple[int, str]:
    rc = result.snapshot(boot_index, "after-cloud-init", "cloud-init-status.rc")
    text = result.snapshot(boot_index, "after-cloud-init", "cloud-init-status.txt")
    assert rc is not None and text is not None, f"the probe recorded nothing for boot {boot_index}"
    return int(rc), text


# -- happy path (boot 1) ---------------------------------------------------------------------------


@pytest.mark.scenario(HAPPY)
def test_happy_reports_ready_and_cloud_init_done(scenario_result: ScenarioResult) -> None:
    powered_off_by_itself(scenario_result, 1)
    reports = report_lines(scenario_result.boots[0].serial)
    assert reports == [("READY", f"name={RUNNER_NAME} labels={LABEL_TEXT}")]
    rc, status = cloud_init_status(scenario_result, 1)
    assert rc == 0 and "status: done" in status, status


@pytest.mark.scenario(HAPPY)
def test_happy_config_sh_called_once_by_runner_with_flags_and_token_in_env(scenario_result: ScenarioResult) -> None:
    (config,) = calls(scenario_result, "config.sh")
    runner = scenario_result.guest_text("/etc/passwd") or ""
    runner_uid = next(int(line.split(":")[2]) for line in runner.splitlines() if line.startswith("runner:"))
    assert config.uid == runner_uid != 0 and config.user == "runner"
    args = config.args
    assert {"--unattended", "--replace", "--disableupdate", "--no-default-labels"} <= set(args)
    assert flag_value(args, "--url") == REGISTRATION_URL
    assert flag_value(args, "--name") == RUNNER_NAME
    assert flag_value(args, "--labels") == LABEL_TEXT
    assert flag_value(args, "--runnergroup") == RUNNER_GROUP
    assert flag_value(args, "--work") == "_work"
    assert "--token" not in args and not any(scenario_result.token in arg for arg in args)
    assert config.fields["ACTIONS_RUNNER_INPUT_TOKEN_present"] == "1"
    token_sha256 = hashlib.sha256(scenario_result.token.encode()).hexdigest()
    assert config.fields["ACTIONS_RUNNER_INPUT_TOKEN_sha256"] == token_sha256


@pytest.mark.scenario(HAPPY)
def test_happy_dependencies_as_root_and_service_installed_for_runner(scenario_result: ScenarioResult) -> None:
    (deps,) = calls(scenario_result, "installdependencies.sh")
    assert deps.uid == 0
    svc = calls(scenario_result, "svc.sh")
    assert [c.args for c in svc][:2] == [("install", "runner"), ("start",)]
    unit = scenario_result.guest_text(f"/etc/systemd/system/{SERVICE}") or ""
    assert "User=runner" in unit and f"ExecStart={RUNNER_ROOT}/run.sh" in unit


@pytest.mark.scenario(HAPPY)
def test_happy_service_enabled_and_running_as_runner(scenario_result: ScenarioResult) -> None:
    assert service_states(scenario_result, 1, "after-cloud-init")[SERVICE] == {"enabled": "enabled", "active": "active"}
    ps = scenario_result.snapshot(1, "after-cloud-init", "ps.txt") or ""
    listeners = [line.split() for line in ps.splitlines() if "Runner.Listener" in line]
    assert listeners and all(fields[0] == "runner" for fields in listeners), ps


@pytest.mark.scenario(HAPPY)
def test_happy_timers_and_metadata_block(scenario_result: ScenarioResult) -> None:
    timers = scenario_result.snapshot(1, "after-cloud-init", "timers.txt") or ""
    assert "arm64-runner-prune.timer" in timers and "arm64-runner-idle.timer" in timers, timers
    iptables = scenario_result.snapshot(1, "after-cloud-init", "iptables.txt") or ""
    uid = (scenario_result.snapshot(1, "after-cloud-init", "id-runner.txt") or "").split("(")[0].removeprefix("uid=")
    assert re.search(rf"-d 169\.254\.169\.254/32 .*--uid-owner {uid} .*-j REJECT", iptables), iptables


@pytest.mark.scenario(HAPPY)
def test_happy_token_fetched_once_and_nowhere_on_disk(scenario_result: ScenarioResult) -> None:
    """After both boots: one hand-off read gave the token (boot 2 asked once more and was told the token
    is consumed); the token's bytes appear nowhere in the disk image — no file (logs, the journal
    dump, runner files), no freed block, no filesystem journal."""
    assert [r.status for r in scenario_result.token_fetches(1)] == [200]
    assert [r.status for r in scenario_result.token_fetches(2)] == [410]
    assert scenario_result.journal(1), "the probe did not dump the journal of boot 1"
    assert scenario_result.journal(2), "the probe did not dump the journal of boot 2"
    token = scenario_result.token.encode()
    hits = raw_offsets(scenario_result.disk, token)
    if hits:
        pytest.fail(f"token found at {len(hits)} disk offsets; {_attribute(scenario_result, token)}")


def _attribute(result: ScenarioResult, token: bytes) -> str:
    """Which files hold the token, and whether the runner user can read them."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        root = rdump(result.disk, Path(tmp))
        runner = account(root, "runner")
        files = files_containing(root, token)
        described = [
            f"{guest_path(root, f)} (runner-readable={runner is not None and can_read(root, f, runner)})" for f in files
        ]
    return "files: " + (", ".join(described) or "none (only freed blocks or the fs journal)")


# -- Docker, installed by the package step (boot 1) -------------------------------------------------


def docker_check(result: ScenarioResult, name: str) -> tuple[int, str]:
    rc = result.guest_text(f"/var/lib/e2e/boot-1/docker/{name}.rc")
    assert rc is not None, f"the probe recorded no docker check {name!r}; see {result.workdir}"
    return int(rc), result.guest_text(f"/var/lib/e2e/boot-1/docker/{name}.out") or ""


@pytest.mark.scenario(HAPPY)
def test_happy_package_step_installs_docker_from_the_mirror(scenario_result: ScenarioResult) -> None:
    debs = [r for r in scenario_result.requests if r.path.startswith("/debian/") and r.path.endswith(".deb")]
    assert debs and all(r.status == 200 for r in debs), debs
    fetched = {r.path.rsplit("/", 1)[1].split("_", 1)[0] for r in debs}
    assert {"docker.io", "docker-cli", "docker-buildx"} <= fetched, fetched
    output = scenario_result.guest_text("/var/log/cloud-init-output.log") or ""
    assert re.search(r"packages: docker \S+ daemon \S+; github\.com/docker/buildx \S+", output), output[-3000:]


@pytest.mark.scenario(HAPPY)
def test_happy_docker_runs_arm64_containers_and_buildx_builds_as_runner(scenario_result: ScenarioResult) -> None:
    assert docker_check(scenario_result, "whoami") == (0, "runner\n")
    rc, info = docker_check(scenario_result, "info")
    assert rc == 0 and info.split() == ["overlay2", "cgroup-v2", "aarch64"], info
    rc, out = docker_check(scenario_result, "import")
    assert rc == 0, out
    rc, out = docker_check(scenario_result, "run")
    assert (rc, out.strip()) == (0, "aarch64"), out
    rc, out = docker_check(scenario_result, "buildx")
    assert rc == 0, out
    rc, out = docker_check(scenario_result, "built")
    assert (rc, out.strip()) == (0, "aarch64"), out


@pytest.mark.scenario(HAPPY)
def test_happy_prune_timer_command_runs_against_the_daemon(scenario_result: ScenarioResult) -> None:
    """The timer's service, started by the probe on a 3 GB disk (below the default 10 GB threshold):
    it prunes through the real daemon, and objects newer than its `until=1h` filter survive."""
    rc, out = docker_check(scenario_result, "prune")
    assert rc == 0, out
    _, log = docker_check(scenario_result, "prune-log")
    assert re.search(r"prune: \d+ KiB free under /var/lib/docker < 10 GB, pruning", log), log
    assert "Total reclaimed space" in log, log
    _, images = docker_check(scenario_result, "images")
    assert {"e2e-busybox:arm64", "e2e-built:arm64"} <= set(images.split()), images


# -- reboot (boot 2 of the same disk) --------------------------------------------------------------


@pytest.mark.scenario(HAPPY)
def test_reboot_service_back_without_second_registration(scenario_result: ScenarioResult) -> None:
    powered_off_by_itself(scenario_result, 2)
    assert report_lines(scenario_result.boots[1].serial) == [], "bootstrap ran again on reboot"
    assert service_states(scenario_result, 2, "after-cloud-init")[SERVICE] == {"enabled": "enabled", "active": "active"}
    assert len(calls(scenario_result, "config.sh")) == 1
    assert len(calls(scenario_result, "installdependencies.sh")) == 1
    assert len(calls(scenario_result, "run.sh")) >= 2, "the service did not start run.sh again after the reboot"
    assert scenario_result.snapshot(2, "after-cloud-init", "docker-active.txt") == "active\n"
    rc, status = cloud_init_status(scenario_result, 2)
    assert rc == 0 and "status: done" in status, status


@pytest.mark.scenario(HAPPY)
def test_happy_runner_unit_requires_the_metadata_block_as_loaded(scenario_result: ScenarioResult) -> None:
    """The drop-in is written before the unit's first start, so systemd loads it with the unit on the
    first boot too (no daemon-reload anywhere)."""
    deps = scenario_result.snapshot(1, "after-cloud-init", "runner-requires.txt") or ""
    requires = next((line for line in deps.splitlines() if line.startswith("Requires=")), "")
    after = next((line for line in deps.splitlines() if line.startswith("After=")), "")
    assert "arm64-runner-imds.service" in requires.split("=", 1)[-1].split(), deps
    assert "arm64-runner-imds.service" in after.split("=", 1)[-1].split(), deps


@pytest.mark.scenario(HAPPY)
def test_reboot_runner_starts_only_once_the_metadata_block_is_in_place(scenario_result: ScenarioResult) -> None:
    """On a later boot the runner's unit starts by itself: its drop-in makes it wait for (and require)
    arm64-runner-imds.service, so no job can run before the block is back."""
    journal = (scenario_result.journal(2) or "").splitlines()
    blocked = next((i for i, line in enumerate(journal) if "Finished arm64-runner-imds.service" in line), None)
    started = next((i for i, line in enumerate(journal) if f"Started {SERVICE}" in line), None)
    assert blocked is not None and started is not None, "\n".join(journal[-80:])
    assert blocked < started, (journal[blocked], journal[started])


# -- later boots: the wake path -------------------------------------------------------------------


@pytest.mark.scenario(IDLE)
def test_idle_stopped_runner_boots_again_without_a_new_registration(scenario_result: ScenarioResult) -> None:
    """The disk the watchdog powered off boots again: the boot unit asks the hand-off once (nothing new),
    the runner service comes back as configured, and idleness counts from this start, not from boot 1."""
    powered_off_by_itself(scenario_result, 2)
    boot = scenario_result.boots[1]
    assert [kind for kind, _ in report_lines(boot.serial)] == ["IDLE"], "registered again, or failed"
    started = boot.first("arm64-runner: STARTED")
    assert started is not None and f"name={RUNNER_NAME}" in started.text, boot.serial[-3000:]
    assert [r.status for r in scenario_result.token_fetches(2)] == [410]
    assert len(calls(scenario_result, "config.sh")) == 1
    assert len(calls(scenario_result, "run.sh")) >= 2, "the runner did not start again"
    assert service_states(scenario_result, 2, "after-cloud-init")[SERVICE] == {"enabled": "enabled", "active": "active"}
    rc, status = cloud_init_status(scenario_result, 2)
    assert rc == 0 and "status: done" in status, status
    idle = boot.first("arm64-runner: IDLE")
    assert idle is not None
    seconds = re.search(r"IDLE for (\d+)s", idle.text)
    assert seconds, idle.text
    # Measured by the guest from its record of the runner's start; the host saw STARTED that long ago.
    assert 60 <= int(seconds.group(1)) <= idle.seconds - started.seconds + 5, (idle, started)


@pytest.mark.scenario(EPHEMERAL)
def test_ephemeral_runner_registers_again_from_a_new_jit_config(scenario_result: ScenarioResult) -> None:
    """Boot 1 runs the first JIT config; boot 2 finds a new one in the hand-off: READY again, the JIT
    service started from it (only through ACTIONS_RUNNER_INPUT_JITCONFIG), neither config on the disk."""
    ready = ("READY", f"name={RUNNER_NAME} labels={LABEL_TEXT}")
    for index in (1, 2):
        powered_off_by_itself(scenario_result, index)
        assert report_lines(scenario_result.boots[index - 1].serial) == [ready], f"boot {index}"
        rc, status = cloud_init_status(scenario_result, index)
        assert rc == 0 and "status: done" in status, status
        assert [r.status for r in scenario_result.token_fetches(index)] == [200]
    assert len(scenario_result.tokens) == 2 and scenario_result.served_tokens == scenario_result.tokens
    assert calls(scenario_result, "config.sh") == []
    jit = [
        c
        for c in calls(scenario_result, "Runner.Listener")
        if c.fields["ACTIONS_RUNNER_INPUT_JITCONFIG_present"] == "1"
    ]
    assert [c.fields["ACTIONS_RUNNER_INPUT_JITCONFIG_sha256"] for c in jit] == [
        hashlib.sha256(token.encode()).hexdigest() for token in scenario_result.tokens
    ]
    assert all(c.user == "runner" and not any(t in a for t in scenario_result.tokens for a in c.args) for c in jit)
    units = scenario_result.snapshot(2, "after-cloud-init", "units.txt") or ""
    assert re.search(r"^arm64-runner-jit\.service\s+loaded\s+active\s+running", units, re.M), units
    for token in scenario_result.tokens:
        hits = raw_offsets(scenario_result.disk, token.encode())
        if hits:
            pytest.fail(
                f"a JIT config found at {len(hits)} disk offsets; {_attribute(scenario_result, token.encode())}"
            )


# -- failures --------------------------------------------------------------------------------------


def assert_failed_and_unconfigured(result: ScenarioResult, step: str, reason: str) -> None:
    powered_off_by_itself(result, 1)
    reports = report_lines(result.boots[0].serial)
    assert len(reports) == 1 and reports[0][0] == "FAILED", reports
    assert reports[0][1].startswith(f"step={step} reason={reason}"), reports
    rc, status = cloud_init_status(result, 1)
    assert rc != 0 and "status: error" in status, status
    assert result.guest_text(f"{RUNNER_ROOT}/.runner") is None
    assert result.guest_text(f"{RUNNER_ROOT}/.credentials") is None
    assert calls(result, "config.sh") == [] and calls(result, "svc.sh") == []
    assert service_states(result, 1, "after-cloud-init") == {}
    assert result.guest_text("/var/lib/arm64-runner/registered") is None
    timers = result.snapshot(1, "after-cloud-init", "timers.txt") or ""
    assert "arm64-runner-idle.timer" not in timers


@pytest.mark.scenario(TAMPERED)
def test_checksum_mismatch_fails_before_anything_is_configured(scenario_result: ScenarioResult) -> None:
    assert_failed_and_unconfigured(scenario_result, "download", "sha256-mismatch")
    assert calls(scenario_result, "installdependencies.sh") == [], "ran code from a tarball that failed its checksum"
    assert [r for r in scenario_result.requests if r.path == "/handoff/token"] == [], "fetched a token anyway"


@pytest.mark.scenario(TOKEN_MISSING)
def test_missing_token_fails_naming_it(scenario_result: ScenarioResult) -> None:
    assert_failed_and_unconfigured(scenario_result, "register", "token-missing")
    assert [r.status for r in scenario_result.requests if r.path == "/handoff/token"] == [404]


@pytest.mark.scenario(TOKEN_EXPIRED)
def test_expired_token_fails_naming_it(scenario_result: ScenarioResult) -> None:
    assert_failed_and_unconfigured(scenario_result, "register", "token-expired")
    assert [r.status for r in scenario_result.requests if r.path == "/handoff/token"] == [410]


# -- idle watchdog ---------------------------------------------------------------------------------


@pytest.mark.scenario(IDLE)
def test_idle_watchdog_powers_the_guest_off(scenario_result: ScenarioResult) -> None:
    powered_off_by_itself(scenario_result, 1)
    reports = report_lines(scenario_result.boots[0].serial)
    kinds = [kind for kind, _ in reports]
    assert kinds == ["READY", "IDLE"], reports
    idle = re.match(r"for (\d+)s \(limit 1m\)", reports[1][1])
    assert idle and int(idle.group(1)) >= 60, reports[1]
    assert scenario_result.snapshot(1, "final", "epoch"), "the guest did not shut down cleanly"
    journal = scenario_result.journal(1) or ""
    assert "arm64-runner-idle.service" in journal


@pytest.mark.scenario(BUSY)
def test_idle_watchdog_leaves_a_busy_guest_running(scenario_result: ScenarioResult) -> None:
    powered_off_by_itself(scenario_result, 1)
    console = scenario_result.boots[0].serial
    assert [kind for kind, _ in report_lines(console)] == ["READY"], "the watchdog powered off during a job"
    assert "fake job ended; the guest survived it" in console
    assert scenario_result.snapshot(1, "after-job", "epoch"), "no snapshot after the job: the guest went down"
    (worker,) = calls(scenario_result, "Runner.Worker")
    assert worker.user == "runner" and worker.args == ("spawnclient", "240")
    busy = scenario_result.guest_text("/var/lib/arm64-runner/last-busy")
    registered = scenario_result.guest_text("/var/lib/arm64-runner/registered")
    assert busy and registered, "the watchdog never saw the job"
    assert int(busy) - int(registered) >= 60, "the watchdog saw the job less than a minute past registration"
