"""bootstrap.sh end to end on a temporary root: the rendered scripts, the stand-in runner, test shims."""

from __future__ import annotations

import hashlib
import pwd
import subprocess
import time

from tests.cloud_init.conftest import JIT_CONFIG, RUNNER_USER, SHIMS, TOKEN, needs_root

pytestmark = needs_root

TOKEN_SHA = hashlib.sha256(TOKEN.encode()).hexdigest()


def test_happy_path_registers_as_runner_user_with_token_only_in_environment(host_factory):
    host = host_factory()
    result = host.run("bootstrap.sh")
    assert result.returncode == 0, result.stderr

    ready = "arm64-runner: READY name=arm64-test-default-0 labels=self-hosted,linux,ARM64,large"
    assert host.console().splitlines() == [ready]
    [config] = host.calls("config.sh")
    assert config["user"] == [RUNNER_USER]
    assert config["cwd"] == [str(host.runner_root)]
    assert config["arg"] == [
        "--unattended",
        "--url",
        "https://github.com/octo/widgets",
        "--name",
        "arm64-test-default-0",
        "--labels",
        "self-hosted,linux,ARM64,large",
        "--no-default-labels",
        "--work",
        "_work",
        "--replace",
    ]
    assert config["ACTIONS_RUNNER_INPUT_TOKEN_present"] == ["1"]
    assert config["ACTIONS_RUNNER_INPUT_TOKEN_sha256"] == [TOKEN_SHA]
    assert TOKEN not in host.shim("runuser.argv")

    [deps] = host.calls("installdependencies.sh")
    assert deps["uid"] == ["0"]
    [install, start] = host.calls("svc.sh")
    assert install["arg"] == ["install", RUNNER_USER]
    assert start["arg"] == ["start"]
    unit = (host.root / "etc/systemd/system/actions.runner.fake.arm64-test-default-0.service").read_text()
    assert f"User={RUNNER_USER}" in unit
    assert f"ExecStart={host.runner_root}/run.sh" in unit

    # The metadata block through its unit, beside download and register; svc.sh's own calls without a
    # daemon reload (install-service.sh's systemctl function); after the runner service, the timers started without waiting
    # and one enable of every unit for later boots (symlinks, no reload).
    assert host.shim("systemctl.calls").splitlines() == [
        "start arm64-runner-imds.service",
        "enable --no-reload actions.runner.fake.arm64-test-default-0.service",
        "start actions.runner.fake.arm64-test-default-0.service",
        "start --no-block arm64-runner-prune.timer arm64-runner-idle.timer",
        "enable --no-reload arm64-runner-boot.service arm64-runner-imds.service arm64-runner-prune.timer"
        " arm64-runner-idle.timer",
    ]
    # The runner's unit requires the block: a drop-in read at its first start.
    drop_in = host.root / "etc/systemd/system/actions.runner.fake.arm64-test-default-0.service.d"
    assert (drop_in / "arm64-runner-imds.conf").read_text().splitlines() == [
        "[Unit]",
        "Requires=arm64-runner-imds.service",
        "After=arm64-runner-imds.service",
    ]
    # One listing per address family, then one insert each (no Docker chain here).
    assert host.shim("iptables.calls").splitlines()[0] == "-S"
    assert len(host.shim("iptables.calls").splitlines()) == 2
    assert len(host.shim("ip6tables.calls").splitlines()) == 2
    uid = pwd.getpwnam(RUNNER_USER).pw_uid
    assert host.shim("iptables.rules").splitlines() == [
        f"OUTPUT -d 169.254.169.254/32 -m owner --uid-owner {uid} -j REJECT"
    ]
    assert host.shim("ip6tables.rules").splitlines() == [
        f"OUTPUT -d fd00:ec2::254/128 -m owner --uid-owner {uid} -j REJECT"
    ]
    assert (host.root / "var/lib/arm64-runner/registered").read_text().strip().isdigit()
    assert host.files_containing(TOKEN) == []


def test_second_run_does_not_register_again(host_factory, token_server):
    host = host_factory()
    assert host.run("bootstrap.sh").returncode == 0
    token_server.status = 410  # the hand-off would refuse a second read now
    result = host.run("bootstrap.sh")
    assert result.returncode == 0, result.stderr
    assert len(host.calls("config.sh")) == 1
    assert token_server.requests == 1
    assert len([c for c in host.calls("svc.sh") if c["arg"][0] == "install"]) == 1
    assert host.console().splitlines()[-1].startswith("arm64-runner: READY ")


def test_checksum_mismatch_refuses_and_configures_nothing(host_factory):
    host = host_factory(sha256="0" * 64)
    result = host.run("bootstrap.sh")
    assert result.returncode != 0
    [line] = host.console().splitlines()
    assert line.startswith("arm64-runner: FAILED step=download reason=sha256-mismatch expected=" + "0" * 64)
    assert not (host.runner_root / "config.sh").exists()
    assert host.calls() == []
    assert not (host.root / "var/lib/arm64-runner/registered").exists()


def test_missing_token_is_reported(host_factory, token_server):
    token_server.status = 404
    host = host_factory()
    assert host.run("bootstrap.sh").returncode != 0
    assert host.console().splitlines() == ["arm64-runner: FAILED step=register reason=token-missing"]
    assert host.calls("config.sh") == []


def test_expired_token_is_reported(host_factory, token_server):
    token_server.status = 410
    host = host_factory()
    assert host.run("bootstrap.sh").returncode != 0
    assert host.console().splitlines() == ["arm64-runner: FAILED step=register reason=token-expired"]
    assert host.calls("svc.sh") == []


def test_runner_group_and_disable_update_flags(host_factory):
    host = host_factory({"runner_group": "arm builders"}, disable_update=True)
    assert host.run("bootstrap.sh").returncode == 0
    [config] = host.calls("config.sh")
    args = config["arg"]
    assert args[args.index("--runnergroup") + 1] == "arm builders"
    assert "--disableupdate" in args


def test_token_leaked_by_the_runner_log_is_scrubbed(host_factory):
    host = host_factory()
    result = host.run("bootstrap.sh", FAKE_RUNNER_LEAK_TOKEN="1")
    assert result.returncode == 0, result.stderr
    assert host.files_containing(TOKEN) == []


def test_idle_none_installs_no_idle_timer(host_factory):
    host = host_factory(idle_action="none", block_metadata=False)
    assert host.run("bootstrap.sh").returncode == 0
    systemctl = host.shim("systemctl.calls")
    assert "arm64-runner-idle.timer" not in systemctl
    # The unit runs (the runner's unit requires it) but blocks nothing and is not enabled on its own.
    assert "enable --no-reload arm64-runner-boot.service arm64-runner-prune.timer\n" in systemctl
    assert host.shim("iptables.calls") == ""
    assert "enable --no-reload arm64-runner-boot.service arm64-runner-prune.timer" in systemctl
    assert host.shim("iptables.rules") == ""


def test_ephemeral_runner_gets_jit_config_through_environment_only(host_factory, token_server):
    token_server.body = JIT_CONFIG
    host = host_factory(ephemeral=True)
    result = host.run("bootstrap.sh")
    assert result.returncode == 0, result.stderr + host.shim("jit-run.out")
    assert "enable --now --no-reload arm64-runner-jit.service" in host.shim("systemctl.calls")
    assert "daemon-reload" not in host.shim("systemctl.calls")
    assert host.calls("config.sh") == []
    assert not (host.root / "run/arm64-runner/jit").exists()
    listener = _wait_for_call(host, "Runner.Listener")
    assert listener["user"] == [RUNNER_USER]
    assert listener["arg"] == ["run"]
    assert listener["ACTIONS_RUNNER_INPUT_JITCONFIG_present"] == ["1"]
    assert listener["ACTIONS_RUNNER_INPUT_JITCONFIG_sha256"] == [hashlib.sha256(JIT_CONFIG.encode()).hexdigest()]
    assert JIT_CONFIG not in host.shim("runuser.argv")
    assert host.files_containing(JIT_CONFIG) == []
    assert host.console().splitlines()[-1].startswith("arm64-runner: READY ")


def _wait_for_call(host, script):
    """The JIT service runs in the background; poll (bounded) for its first record."""
    for _ in range(100):
        calls = host.calls(script)
        if calls:
            return calls[0]
        time.sleep(0.1)
    raise AssertionError(f"{script} never ran: {host.shim('jit-run.out')}")


def test_a_failed_metadata_block_stops_the_runner_from_starting(host_factory):
    """The block is arm64-runner-imds.service's: its failure reason (left through the unit's environment)
    is the harden step's, and the runner's service is never installed or started."""
    host = host_factory()
    result = host.run("bootstrap.sh", ARM64_RUNNER_IPTABLES="false")
    assert result.returncode != 0
    assert host.console().splitlines() == ["arm64-runner: FAILED step=harden reason=iptables-unusable"]
    assert host.calls("svc.sh") == []


def test_prepare_refuses_a_missing_runner_user(host_factory, tmp_path):
    """prepare reads the passwd file itself (no id(1)): a user that is not there fails the step by name."""
    host = host_factory()
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\nrunnerx:x:1001:1001::/home/runnerx:/bin/bash\n")
    result = host.run("bootstrap.sh", ARM64_RUNNER_PASSWD=str(passwd), ARM64_RUNNER_USER_WAIT="0")
    assert result.returncode != 0
    assert host.console().splitlines() == [f"arm64-runner: FAILED step=prepare reason=no-user {RUNNER_USER}"]
    assert host.calls("config.sh") == []


def test_prepare_joins_the_docker_group_only_when_there_is_one(host_factory, tmp_path):
    host = host_factory()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "usermod").symlink_to(SHIMS / "recorder")
    path = f"{bin_dir}:{host.env['PATH']}"
    group = tmp_path / "group"
    group.write_text("root:x:0:\ndockerish:x:998:\n")
    script = host.root / "usr/local/lib/arm64-runner/variant/prepare.sh"
    subprocess.run([str(script)], env={**host.env, "PATH": path, "ARM64_RUNNER_GROUP_FILE": str(group)}, check=True)
    assert "usermod" not in (host.shim("recorded") or "")
    group.write_text("root:x:0:\ndocker:x:998:\n")
    subprocess.run([str(script)], env={**host.env, "PATH": path, "ARM64_RUNNER_GROUP_FILE": str(group)}, check=True)
    assert host.shim("recorded").splitlines() == [f"usermod -aG docker {RUNNER_USER}"]


def test_lib_helpers_do_what_the_programs_did(host_factory, tmp_path):
    """pause sleeps (without sleep(1)), sha256_of matches sha256sum, has_entry matches whole names only."""
    host = host_factory()
    data = tmp_path / "data"
    data.write_bytes(b"arm64-runner\n")
    program = (
        '. "$ARM64_RUNNER_LIB/lib.sh"; start=$EPOCHREALTIME; pause 0.3; pause 0.2; end=$EPOCHREALTIME\n'
        'printf "%s %s\\n" "$start" "$end"\n'
        f'sha256_of sum "{data}"; printf "%s\\n" "$sum"\n'
        "has_entry /etc/passwd root && echo root-yes; has_entry /etc/passwd roo || echo roo-no\n"
        'has_entry /etc/passwd root name; printf "uid=%s\\n" "$name"\n'
    )
    out = subprocess.run(["bash", "-c", program], env=host.env, capture_output=True, text=True, check=True).stdout
    times, digest, *entries = out.splitlines()
    start, end = map(float, times.split())
    assert end - start >= 0.5
    assert digest == hashlib.sha256(b"arm64-runner\n").hexdigest()
    assert entries == ["root-yes", "roo-no", "uid=0"]


def test_a_handoff_that_fails_midway_is_a_failure_not_a_token(host_factory):
    """The hand-off runs in a subshell of register.sh (run_script): its own `set -e` must hold, so a
    command failing before it prints anything is a failed hand-off, never a token. (As a condition,
    `$(run_script ...) || rc=$?`, bash ignored it and the line after the failure became the token.)"""
    host = host_factory()
    handoff = host.lib / "handoff.sh"
    handoff.write_text("#!/usr/bin/env bash\nset -euo pipefail\nfalse\nprintf 'NOT-A-TOKEN\\n'\n")
    result = host.run("bootstrap.sh")
    assert result.returncode != 0
    assert host.console().splitlines() == ["arm64-runner: FAILED step=register reason=handoff-failed exit=1"]
    assert host.calls("config.sh") == []


def test_script_status_keeps_the_scripts_set_e_and_the_callers(host_factory, tmp_path):
    """script_status: the script stops at its first failing command and its status is returned; the
    caller's own `set -e` is back afterwards (and stays off for a caller without it)."""
    host = host_factory()
    script = tmp_path / "midway.sh"
    script.write_text("set -euo pipefail\nfalse\necho after-false\n")
    program = (
        '. "$ARM64_RUNNER_LIB/lib.sh"; set -e\n'
        f'script_status rc "{script}"; echo "rc=$rc flags=${{-//[^e]/}}"\n'
        f'set +e; script_status rc "{script}"; echo "rc=$rc flags=${{-//[^e]/}}"\n'
    )
    done = subprocess.run(["bash", "-c", program], env=host.env, capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["rc=1 flags=e", "rc=1 flags="]
