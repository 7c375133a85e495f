"""status / wait-online / gc / validate against the fake GitHub API on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

import pytest

from tests.fakes.github_api import DEFAULT_CREDENTIAL
from tests.fakes.github_workflows import FakeGithubWorkflows, ScriptedJob
from tests.tools.ops.conftest import SCOPE, FakeClock
from tools.ops.cli import main, parse_inputs

INPUTS = (
    "os_selections=debian-stable-arm64,ubuntu-stable-arm64 tag_suffix=-validate push_to_ghcr=false "
    "run_tests=true runner_type=native"
)


def ops(github: FakeGithubWorkflows, stacks_dir: Path, clock: FakeClock, *args: str) -> int:
    return main(["--stacks-dir", str(stacks_dir), "--api-url", github.api_url, *args], clock.as_clock())


# --- status --------------------------------------------------------------------------------------


def test_status_lists_the_stacks_runners_only(github, stacks_dir, clock, capsys) -> None:
    github.add_runner(SCOPE, "arm64-dev-a-0", labels=("self-hosted", "linux", "ARM64"))
    github.add_runner(SCOPE, "arm64-dev-a-1", busy=True, labels=("self-hosted", "linux", "ARM64"))
    github.add_runner(SCOPE, "arm64-dev-old-0")["status"] = "offline"
    github.add_runner(SCOPE, "arm64-dev-x-a-0")  # stack dev-x
    github.add_runner(SCOPE, "someone-elses-runner")
    assert ops(github, stacks_dir, clock, "status", "--stack", "dev") == 0
    out = capsys.readouterr().out
    assert "| arm64-dev-a-0 | online | 2.331.0 | self-hosted, linux, ARM64 | yes |" in out
    assert "| arm64-dev-a-1 | busy | 2.331.0 |" in out
    assert "| arm64-dev-old-0 | offline | 2.331.0 | — | no (leftover) |" in out
    assert "arm64-dev-x-a-0" not in out and "someone-elses-runner" not in out
    assert "Totals: 1 online, 1 busy, 1 offline, 0 missing" in out
    assert "Pulumi CLI not installed" in out
    assert "installs runner version 2.331.0" in out
    assert "Not on version" not in out


def test_status_shows_the_version_each_runner_reports(github, stacks_dir, clock, capsys) -> None:
    github.add_runner(SCOPE, "arm64-dev-a-0", version="2.332.0")  # updated itself after a release
    assert ops(github, stacks_dir, clock, "status", "--stack", "dev") == 0
    out = capsys.readouterr().out
    assert "| arm64-dev-a-0 | online | 2.332.0 |" in out
    assert "| arm64-dev-a-1 | missing | — |" in out
    assert "Not on version 2.331.0: arm64-dev-a-0 (2.332.0) — a runner updates itself" in out


def test_status_expect_none(github, stacks_dir, clock, capsys) -> None:
    github.add_runner(SCOPE, "arm64-dev-x-a-0")
    assert ops(github, stacks_dir, clock, "status", "--stack", "dev", "--expect-none") == 0
    github.add_runner(SCOPE, "arm64-dev-a-1")["status"] = "offline"
    assert ops(github, stacks_dir, clock, "status", "--stack", "dev", "--expect-none") == 1
    assert "GitHub still lists 1 runner(s) of stack dev: arm64-dev-a-1" in capsys.readouterr().err


def test_bad_credential_exits_2_without_echoing_the_token(github, stacks_dir, clock, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_wrong_token_value")
    assert ops(github, stacks_dir, clock, "status", "--stack", "dev") == 2
    captured = capsys.readouterr()
    assert "401" in captured.err and "github:token" in captured.err
    assert "ghp_wrong_token_value" not in captured.err + captured.out


def test_unknown_stack(github, stacks_dir, clock, capsys) -> None:
    assert ops(github, stacks_dir, clock, "status", "--stack", "prod") == 2
    assert "stacks: dev, dev-x" in capsys.readouterr().err


# --- wait-online ---------------------------------------------------------------------------------


def test_wait_online_returns_once_every_runner_is_online(github, stacks_dir, clock, capsys) -> None:
    github.add_runner(SCOPE, "arm64-dev-a-0")

    def second_host_boots(now: float) -> None:
        if now >= 60 and "arm64-dev-a-1" not in github.runner_names(SCOPE):
            github.add_runner(SCOPE, "arm64-dev-a-1")

    clock.on_sleep = second_host_boots
    assert ops(github, stacks_dir, clock, "wait-online", "--stack", "dev", "--timeout", "600", "--poll", "30") == 0
    assert clock.now == 60  # two polls of 30 s
    assert "all 2 runner(s) of stack dev are online" in capsys.readouterr().out


def test_wait_online_times_out_listing_what_is_missing(github, stacks_dir, clock, capsys) -> None:
    github.add_runner(SCOPE, "arm64-dev-a-0")["status"] = "offline"
    assert ops(github, stacks_dir, clock, "wait-online", "--stack", "dev", "--timeout", "120", "--poll", "50") == 1
    assert clock.slept == [50, 50, 20]
    err = capsys.readouterr().err
    assert "after 120 s, not online: arm64-dev-a-0 (offline), arm64-dev-a-1 (missing)" in err


# --- gc ------------------------------------------------------------------------------------------


def test_gc_deletes_offline_leftovers_and_keeps_what_may_restart(github, stacks_dir, clock, capsys) -> None:
    github.add_runner(SCOPE, "arm64-dev-a-0")  # online: kept
    github.add_runner(SCOPE, "arm64-dev-a-1")["status"] = "offline"  # idle-stopped host? kept
    github.add_runner(SCOPE, "arm64-dev-old-0")["status"] = "offline"  # leftover: deleted
    github.add_runner(SCOPE, "arm64-dev-x-a-0")["status"] = "offline"  # another stack's: untouched
    assert ops(github, stacks_dir, clock, "gc", "--stack", "dev") == 0
    assert github.runner_names(SCOPE) == ["arm64-dev-a-0", "arm64-dev-a-1", "arm64-dev-x-a-0"]
    out = capsys.readouterr().out
    assert "deleted 1 offline runner(s): arm64-dev-old-0" in out
    assert ops(github, stacks_dir, clock, "gc", "--stack", "dev", "--include-stopped") == 0
    assert github.runner_names(SCOPE) == ["arm64-dev-a-0", "arm64-dev-x-a-0"]


def test_gc_keeps_a_runner_github_says_is_running_a_job(github, stacks_dir, clock, capsys) -> None:
    leftover = github.add_runner(SCOPE, "arm64-dev-old-0", busy=True)
    leftover["status"] = "offline"  # GitHub can list a runner offline while it still holds a job
    assert ops(github, stacks_dir, clock, "gc", "--stack", "dev") == 0
    assert github.runner_names(SCOPE) == ["arm64-dev-old-0"]
    assert len(github.requests_to("DELETE", r".*")) == 1  # asked once, GitHub answered 422 busy
    assert "kept (in use, or may be an idle-stopped host): arm64-dev-old-0" in capsys.readouterr().out


def test_gc_reports_githubs_own_message_for_any_other_422(github, stacks_dir, clock, capsys) -> None:
    refused = github.add_runner(SCOPE, "arm64-dev-old-0")
    refused["status"] = "offline"
    github.add_runner(SCOPE, "arm64-dev-old-1")["status"] = "offline"
    path = rf"{SCOPE}/actions/runners/{refused['id']}"
    github.fail_next("DELETE", path, 422, body={"message": "Validation Failed"})
    assert ops(github, stacks_dir, clock, "gc", "--stack", "dev") == 1
    captured = capsys.readouterr()
    assert "error: GitHub refused to delete runner arm64-dev-old-0:" in captured.err
    assert "422 Validation Failed" in captured.err
    assert "still running" not in captured.err + captured.out
    assert "deleted 1 offline runner(s): arm64-dev-old-1" in captured.out  # the rest carried on
    assert github.runner_names(SCOPE) == ["arm64-dev-old-0"]


def test_gc_dry_run_deletes_nothing(github, stacks_dir, clock, capsys) -> None:
    github.add_runner(SCOPE, "arm64-dev-old-0")["status"] = "offline"
    assert ops(github, stacks_dir, clock, "gc", "--stack", "dev", "--dry-run") == 0
    assert github.runner_names(SCOPE) == ["arm64-dev-old-0"]
    assert github.requests_to("DELETE", r".*") == []
    assert "would delete 1" in capsys.readouterr().out


# --- validate ------------------------------------------------------------------------------------


def online_stack(github: FakeGithubWorkflows) -> None:
    for name in ("arm64-dev-a-0", "arm64-dev-a-1"):
        github.add_runner(SCOPE, name, labels=("self-hosted", "linux", "ARM64"))


def report_of(tmp_path: Path) -> str:
    (report,) = (tmp_path / "reports").glob("dev-*.md")
    return report.read_text()


def validate(github, stacks_dir, clock, tmp_path, *extra: str) -> int:
    return ops(
        github, stacks_dir, clock, "validate", "--stack", "dev", "--workflow", "build-push-arm64.yml",
        "--inputs", INPUTS, "--reports-dir", str(tmp_path / "reports"), "--poll", "30", *extra,
    )  # fmt: skip


def test_validate_go(github, stacks_dir, clock, tmp_path, capsys) -> None:
    online_stack(github)
    github.script_run(
        "octo/app",
        "build-push-arm64.yml",
        jobs=[
            ScriptedJob("build (debian-stable-arm64)", "success", "arm64-dev-a-0", seconds=540),
            ScriptedJob("test", "success", "arm64-dev-a-1", seconds=75),
            ScriptedJob("push", "skipped", None, seconds=0),
        ],
        polls_until_done=3,
    )
    assert validate(github, stacks_dir, clock, tmp_path) == 0
    (run,) = github.runs.values()
    assert run.ref == "main"
    assert run.inputs == {
        "os_selections": "debian-stable-arm64,ubuntu-stable-arm64",
        "tag_suffix": "-validate",
        "push_to_ghcr": "false",
        "run_tests": "true",
        "runner_type": "native",
    }
    assert clock.slept == [30, 30]
    report = report_of(tmp_path)
    assert report.startswith("# Validation of stack `dev`: **GO**")
    assert (
        "| build (debian-stable-arm64) | success | arm64-dev-a-0 | self-hosted, linux, ARM64 | 9 min 00 s |" in report
    )
    assert "| test | success | arm64-dev-a-1 |" in report and "1 min 15 s" in report
    assert "| arm64-dev-a-0 | online | self-hosted, linux, ARM64 |" in report
    assert "Run duration: 10 min 15 s" in report
    assert f"/actions/runs/{run.id}" in report
    assert "GO: report written to" in capsys.readouterr().out


def test_validate_failing_job_is_no_go(github, stacks_dir, clock, tmp_path, capsys) -> None:
    online_stack(github)
    github.script_run(
        "octo/app",
        "build-push-arm64.yml",
        jobs=[
            ScriptedJob("build", "success", "arm64-dev-a-0"),
            ScriptedJob("test", "failure", "arm64-dev-a-1", seconds=30),
        ],
    )
    assert validate(github, stacks_dir, clock, tmp_path) == 1
    report = report_of(tmp_path)
    assert "**NO-GO**" in report
    assert "- the run concluded failure" in report
    assert "- job 'test' concluded failure on arm64-dev-a-1" in report
    assert "NO-GO" in capsys.readouterr().out


def test_validate_timeout_is_non_zero(github, stacks_dir, clock, tmp_path) -> None:
    online_stack(github)
    github.script_run("octo/app", "build-push-arm64.yml", [ScriptedJob("build", "success", "arm64-dev-a-0")], None)
    assert validate(github, stacks_dir, clock, tmp_path, "--timeout", "300") != 0
    assert clock.now == 300
    report = report_of(tmp_path)
    assert "the run did not complete before the timeout (last status: in_progress)" in report
    assert "job 'build' is still in_progress" in report


def test_validate_finds_the_run_when_dispatch_returns_204(stacks_dir, clock, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", DEFAULT_CREDENTIAL)
    monkeypatch.setenv("PATH", "/nonexistent")
    with FakeGithubWorkflows(return_run_details=False) as github:
        github.add_scope(SCOPE)
        online_stack(github)
        github.script_run("octo/app", "build-push-arm64.yml", [ScriptedJob("build", "success", "arm64-dev-a-0")])
        assert validate(github, stacks_dir, clock, tmp_path) == 0
        assert github.requests_to("GET", r"/repos/octo/app/actions/workflows/build-push-arm64.yml/runs")
    assert "**GO**" in report_of(tmp_path)


RFC3339_SPELLINGS = {
    "fraction": lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    "nanoseconds": lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z",
    "offset": lambda t: t.astimezone(timezone(timedelta(hours=-5))).isoformat(),
    "lowercase": lambda t: t.strftime("%Y-%m-%dt%H:%M:%Sz"),
}


@pytest.mark.parametrize("spelling", sorted(RFC3339_SPELLINGS))
def test_validate_reads_any_rfc3339_time(spelling, stacks_dir, clock, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", DEFAULT_CREDENTIAL)
    monkeypatch.setenv("PATH", "/nonexistent")
    with FakeGithubWorkflows(stamp=RFC3339_SPELLINGS[spelling]) as github:
        github.add_scope(SCOPE)
        online_stack(github)
        jobs = [ScriptedJob("build", "success", "arm64-dev-a-0", seconds=540), ScriptedJob("test", "success", None)]
        github.script_run("octo/app", "build-push-arm64.yml", jobs)
        assert validate(github, stacks_dir, clock, tmp_path) == 0
    report = report_of(tmp_path)
    assert "| build | success | arm64-dev-a-0 | self-hosted, linux, ARM64 | 9 min 00 s |" in report
    assert "Run duration: 10 min 00 s" in report


def test_validate_no_go_when_the_stack_ran_nothing(github, stacks_dir, clock, tmp_path) -> None:
    online_stack(github)
    github.script_run("octo/app", "build-push-arm64.yml", [ScriptedJob("build", "success", "arm64-dev-x-a-0")])
    assert validate(github, stacks_dir, clock, tmp_path) == 1
    assert "- no job ran on a runner of stack dev" in report_of(tmp_path)


def test_validate_no_go_when_a_runner_is_offline(github, stacks_dir, clock, tmp_path) -> None:
    github.add_runner(SCOPE, "arm64-dev-a-0")
    github.script_run("octo/app", "build-push-arm64.yml", [ScriptedJob("build", "success", "arm64-dev-a-0")])
    assert validate(github, stacks_dir, clock, tmp_path) == 1
    assert "- runners not online: arm64-dev-a-1" in report_of(tmp_path)


def test_parse_inputs() -> None:
    assert parse_inputs("a=1 'b=x y' c=") == {"a": "1", "b": "x y", "c": ""}
    with pytest.raises(Exception, match="not KEY=VALUE"):
        parse_inputs("novalue")
