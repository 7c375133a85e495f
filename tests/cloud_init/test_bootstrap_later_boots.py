"""bootstrap.sh at every boot after the first (`bootstrap.sh boot`, arm64-runner-boot.service) and the
first boot's hand-over to cloud-init (`first-boot` in its own unit, `await` in runcmd): the rendered
scripts on a temporary root, the stand-in runner, test shims. The hand-off is the http one against a
local server that plays each cloud's behaviour (read-once like AWS's deleted parameter, or the same
token again like OCI's metadata)."""

from __future__ import annotations

import hashlib
import time

import pytest

from components.bootstrap import WRITTEN_TRIGGER
from tests.cloud_init.conftest import JIT_CONFIG, RUNNER_USER, TOKEN, Host, needs_root

pytestmark = needs_root

NEW_TOKEN = "AANEWTOKENFORTHEWAKEBOOT0123456"
NEW_JIT = "eyJydW5uZXIiOiJzZWNvbmQtaml0LWNvbmZpZyJ9"
READY = "arm64-runner: READY name=arm64-test-default-0 labels=self-hosted,linux,ARM64,large"
STARTED = "arm64-runner: STARTED name=arm64-test-default-0 (registered before; no new token in the hand-off)"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def first_boot(host: Host) -> None:
    result = host.run("bootstrap.sh")
    assert result.returncode == 0, result.stdout + result.stderr
    assert host.console().splitlines()[-1] == READY


def record_handoff_environment(host: Host) -> None:
    """Wrap the installed hand-off so each call records how long it was told it may wait."""
    handoff = host.lib / "handoff.sh"
    handoff.rename(host.lib / "handoff-real.sh")
    handoff.write_text(
        "#!/usr/bin/env bash\nset -euo pipefail\n"
        'printf "%s\\n" "${HANDOFF_WAIT_SECONDS-unset}" >>"$SHIM_LOG/handoff.wait"\n'
        'exec "$(dirname "$0")/handoff-real.sh"\n'
    )
    handoff.chmod(0o700)


def test_nothing_new_starts_the_runner_as_configured(host_factory, token_server):
    host = host_factory()
    first_boot(host)
    token_server.status = 410  # read once, like the SSM parameter the instance deleted
    result = host.run("bootstrap.sh", "boot")
    assert result.returncode == 0, result.stderr
    assert host.console().splitlines()[-1] == STARTED
    assert [line for line in host.console().splitlines() if "READY" in line or "FAILED" in line] == [READY]
    assert token_server.requests == 2
    assert len(host.calls("config.sh")) == 1
    assert [call["arg"] for call in host.calls("svc.sh")] == [["install", RUNNER_USER], ["start"], ["start"]]


def test_a_new_token_registers_again_after_stopping_the_runner(host_factory, token_server):
    host = host_factory()
    first_boot(host)
    token_server.body = NEW_TOKEN  # what the wake function puts in the hand-off before StartInstances
    result = host.run("bootstrap.sh", "boot")
    assert result.returncode == 0, result.stderr
    assert host.console().splitlines()[-1] == READY
    first, second = host.calls("config.sh")
    assert first["ACTIONS_RUNNER_INPUT_TOKEN_sha256"] == [sha(TOKEN)]
    assert second["ACTIONS_RUNNER_INPUT_TOKEN_sha256"] == [sha(NEW_TOKEN)]
    assert "--replace" in second["arg"] and "--token" not in second["arg"]
    svc = [call["arg"] for call in host.calls("svc.sh")]
    assert svc == [["install", RUNNER_USER], ["start"], ["stop"], ["start"]]
    # The stop came before the second registration (call records are named by their start time).
    stop = next(c for c in host.calls("svc.sh") if c["arg"] == ["stop"])
    assert host.calls().index(stop) < host.calls().index(second)
    assert (host.root / "var/lib/arm64-runner/token.sha256").read_text().strip() == sha(NEW_TOKEN)
    assert host.files_containing(TOKEN) == [] and host.files_containing(NEW_TOKEN) == []


def test_the_token_already_used_is_not_new(host_factory, token_server):
    """A hand-off that is not read-once (OCI's instance metadata) still holds the first boot's token."""
    host = host_factory()
    first_boot(host)
    result = host.run("bootstrap.sh", "boot")
    assert result.returncode == 0, result.stderr
    assert token_server.requests == 2
    assert host.console().splitlines()[-1] == STARTED
    assert len(host.calls("config.sh")) == 1
    assert "stop" not in [call["arg"][0] for call in host.calls("svc.sh")]


def test_later_boots_ask_the_handoff_once_without_waiting(host_factory, token_server):
    host = host_factory()
    record_handoff_environment(host)
    first_boot(host)
    token_server.status = 404
    assert host.run("bootstrap.sh", "boot").returncode == 0
    # First boot: the hand-off's own bounded wait; later boots: HANDOFF_WAIT_SECONDS=0 (aws-ssm.sh asks once).
    assert host.shim("handoff.wait").splitlines() == ["unset", "0"]
    assert token_server.requests == 2


def test_a_host_never_configured_fails_register_on_a_later_boot_without_token(host_factory, token_server):
    token_server.status = 404
    host = host_factory()
    assert host.run("bootstrap.sh").returncode != 0
    # The failed first boot left the boot unit enabled: the next boot tries again.
    assert "enable --no-reload arm64-runner-boot.service" in host.shim("systemctl.calls").splitlines()
    result = host.run("bootstrap.sh", "boot")
    assert result.returncode != 0
    assert host.console().splitlines() == ["arm64-runner: FAILED step=register reason=token-missing"] * 2
    assert host.calls("config.sh") == []


def test_a_host_never_configured_registers_when_a_token_arrives(host_factory, token_server):
    token_server.status = 404
    host = host_factory()
    assert host.run("bootstrap.sh").returncode != 0
    token_server.status = 200
    result = host.run("bootstrap.sh", "boot")
    assert result.returncode == 0, result.stderr
    assert host.console().splitlines()[-1] == READY
    [config] = host.calls("config.sh")
    assert config["ACTIONS_RUNNER_INPUT_TOKEN_sha256"] == [sha(TOKEN)]
    assert (host.root / "var/lib/arm64-runner/registered").exists()


def test_ephemeral_runner_registers_again_from_a_new_jit_config(host_factory, token_server):
    token_server.body = JIT_CONFIG
    host = host_factory(ephemeral=True)
    first_boot(host)
    wait_for(lambda: jit_listeners(host) == [sha(JIT_CONFIG)], host)
    token_server.body = NEW_JIT
    result = host.run("bootstrap.sh", "boot")
    assert result.returncode == 0, result.stderr + host.shim("jit-run.out")
    assert host.console().splitlines()[-1] == READY
    wait_for(lambda: jit_listeners(host) == [sha(JIT_CONFIG), sha(NEW_JIT)], host)
    calls = host.shim("systemctl.calls").splitlines()
    assert calls.index("stop arm64-runner-jit.service") < len(calls) - 1
    assert calls[-1] == "enable --now --no-reload arm64-runner-jit.service"
    assert not (host.root / "run/arm64-runner/jit").exists()
    assert host.files_containing(JIT_CONFIG) == [] and host.files_containing(NEW_JIT) == []


def test_a_woken_runner_gets_a_whole_idle_timeout(host_factory, token_server):
    """Boot 1 registered long ago: without a fresh start of the idle clock the watchdog's first tick
    after the wake would power the host off before the job that woke it arrives."""
    host = host_factory(idle_timeout_minutes=30)
    first_boot(host)
    state = host.root / "var/lib/arm64-runner"
    (state / "registered").write_text(f"{int(time.time()) - 86400}\n")
    (state / "last-busy").write_text(f"{int(time.time()) - 3600}\n")
    token_server.status = 410
    assert host.run("bootstrap.sh", "boot").returncode == 0
    host.env["ARM64_RUNNER_PROC"] = str(host.root / "no-proc")
    assert host.run("idle-watchdog.sh", ARM64_RUNNER_NOW=str(int(time.time()) + 29 * 60)).returncode == 0
    assert "poweroff" not in host.shim("recorded")
    assert host.run("idle-watchdog.sh", ARM64_RUNNER_NOW=str(int(time.time()) + 31 * 60)).returncode == 0
    assert "poweroff" in host.shim("recorded")


# -- the first boot's unit and cloud-init's runcmd -------------------------------------------------


def test_await_returns_the_first_boot_units_status_and_log(host_factory):
    host = host_factory()
    unit = host.start("bootstrap.sh", "first-boot")
    waited = host.run("bootstrap.sh", "await")
    assert unit.wait(timeout=120) == 0
    assert waited.returncode == 0, waited.stdout + waited.stderr
    # The whole log, replayed into cloud-init's output (and so the console and cloud-init-output.log).
    assert "arm64-runner: step register" in waited.stdout and READY in waited.stdout
    assert waited.stdout == (host.root / "var/log/arm64-runner-bootstrap.log").read_text()


def test_await_fails_when_the_first_boot_failed(host_factory, token_server):
    token_server.status = 410
    host = host_factory()
    unit = host.start("bootstrap.sh", "first-boot")
    waited = host.run("bootstrap.sh", "await")
    assert unit.wait(timeout=120) != 0
    assert waited.returncode != 0
    assert "arm64-runner: FAILED step=register reason=token-expired" in waited.stdout
    assert host.console().splitlines() == ["arm64-runner: FAILED step=register reason=token-expired"]


def test_await_fails_when_the_unit_never_started(host_factory):
    host = host_factory()
    waited = host.run("bootstrap.sh", "await", ARM64_RUNNER_AWAIT_SECONDS="1")
    assert waited.returncode != 0
    assert host.console().splitlines() == ["arm64-runner: FAILED step=start reason=bootstrap-unit-never-started"]


def test_await_waits_for_a_unit_that_is_still_running(host_factory, token_server):
    """The unit holds its lock until it ends; `await` started meanwhile returns only then."""
    host = host_factory()
    record_handoff_environment(host)
    handoff = host.lib / "handoff-real.sh"
    handoff.write_text(handoff.read_text().replace("set -euo pipefail\n", "set -euo pipefail\nsleep 3\n", 1))
    unit = host.start("bootstrap.sh", "first-boot")
    deadline = time.monotonic() + 60
    while not (host.root / "run/arm64-runner/bootstrap.lock").exists():
        assert time.monotonic() < deadline and unit.poll() is None
        time.sleep(0.05)
    waited = host.run("bootstrap.sh", "await")
    assert unit.poll() == 0, "await returned before the unit ended"
    assert waited.returncode == 0 and READY in waited.stdout


@pytest.mark.parametrize("mode", ["", "boot"])
def test_a_failing_step_is_reported_once_with_its_reason(host_factory, token_server, mode):
    """A step that fails inside bootstrap.sh itself (the JIT config never consumed) is reported like the
    step scripts' failures: one FAILED line naming the step and the reason."""
    token_server.body = JIT_CONFIG
    host = host_factory(ephemeral=True)
    if mode:
        first_boot(host)
        token_server.body = NEW_JIT
    # A JIT service that never starts: the shim records the call and does nothing else.
    (host.shim_log / "jit.broken").touch()
    result = host.run("bootstrap.sh", *([mode] if mode else []), ARM64_RUNNER_JIT_WAIT="1")
    assert result.returncode != 0
    failed = [line for line in host.console().splitlines() if "FAILED" in line]
    assert failed == ["arm64-runner: FAILED step=service reason=jit-config-not-consumed"]


def jit_listeners(host: Host) -> list[str]:
    """sha256 of each JIT config a Runner.Listener was started with, in order."""
    return [
        call["ACTIONS_RUNNER_INPUT_JITCONFIG_sha256"][0]
        for call in host.calls("Runner.Listener")
        if call["ACTIONS_RUNNER_INPUT_JITCONFIG_present"] == ["1"]
    ]


def wait_for(condition, host: Host) -> None:
    """The JIT service runs in the background: poll (bounded)."""
    for _ in range(100):
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"condition never met: {host.shim('jit-run.out')}")


def test_first_boot_removes_its_trigger_and_waits_for_the_runner_user(host_factory, tmp_path):
    """The unit starts when write_files is done, before cloud-init's users module: it deletes the file
    that started it (the path unit must not start it twice) and waits for the runner user to appear."""
    host = host_factory()
    trigger = host.root / WRITTEN_TRIGGER.lstrip("/")
    trigger.parent.mkdir(parents=True, exist_ok=True)
    trigger.write_text("written\n")
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0::/root:/bin/bash\n")
    unit = host.start("bootstrap.sh", "first-boot", ARM64_RUNNER_PASSWD=str(passwd))
    log = host.root / "var/log/arm64-runner-bootstrap.log"
    for _ in range(100):
        if "waiting for cloud-init's users module" in (log.read_text() if log.exists() else ""):
            break
        time.sleep(0.1)
    assert not trigger.exists()
    assert host.calls("config.sh") == [] and unit.poll() is None, "went on without the runner user"
    passwd.write_text(f"root:x:0:0::/root:/bin/bash\n{RUNNER_USER}:x:65534:65534::/nonexistent:/bin/false\n")
    assert unit.wait(timeout=120) == 0
    assert log.read_text().splitlines()[-3].startswith("arm64-runner: READY ")
