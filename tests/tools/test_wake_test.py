"""`make wake-test`: a signed synthetic queued delivery reaches the wake function and starts a runner.

The "deployed" function is the real handler behind a local HTTP server (tests/functions/wake/world.py's
`function_url`) on moto; `pulumi stack output` is a stand-in CLI on PATH printing the stack's outputs.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from functions.wake.settings import PoolSpec
from tests.functions.wake.world import LABELS, SECRET_PARAMETER, WEBHOOK_SECRET, function_url, wake_world
from tools import wake_test

STACK = "aws-graviton"  # stacks/Pulumi.aws-graviton.yaml: repository tzervas/embeddenator


def fake_pulumi(tmp_path: Path, monkeypatch, outputs: dict) -> Path:
    """A `pulumi` on PATH that answers `stack output --json --stack aws-graviton` and records its argv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{tmp_path / "argv"}"\n'
        f'[ "$*" = "stack output --json --stack {STACK}" ] || exit 3\n'
        f"cat <<'JSON'\n{json.dumps(outputs)}\nJSON\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv(wake_test.SECRET_ENV, raising=False)
    return tmp_path / "argv"


def test_wake_test_starts_a_stopped_runner_with_the_deployed_secret(tmp_path: Path, monkeypatch, capsys) -> None:
    with wake_world([PoolSpec("graviton", LABELS, 2)]) as world, function_url(world.app) as url:
        argv = fake_pulumi(tmp_path, monkeypatch, {"wakeUrl": url, "wakeSecretParameter": SECRET_PARAMETER})
        assert wake_test.main(["--stack", STACK]) == 0
        assert world.states("graviton") == ["running", "stopped"]
    out = capsys.readouterr().out
    assert "labels ['self-hosted', 'linux', 'ARM64'] from tzervas/embeddenator" in out
    assert '"status":"started"' in out and WEBHOOK_SECRET not in out
    assert argv.read_text().split("\n")[0] == f"stack output --json --stack {STACK}"


def test_a_wrong_secret_is_refused_and_reported(tmp_path: Path, monkeypatch, capsys) -> None:
    with wake_world([PoolSpec("graviton", LABELS, 1)]) as world, function_url(world.app) as url:
        monkeypatch.setenv(wake_test.SECRET_ENV, "not-the-secret")
        assert wake_test.main(["--stack", STACK, "--url", url]) == 1
        assert world.states("graviton") == ["stopped"]
    assert "HTTP 401" in capsys.readouterr().out


def test_a_stack_without_wake_function_says_why(tmp_path: Path, monkeypatch, capsys) -> None:
    fake_pulumi(tmp_path, monkeypatch, {"labels": ["self-hosted"]})
    assert wake_test.main(["--stack", STACK]) == 2
    assert "has no wake function (output wakeUrl missing)" in capsys.readouterr().err


def test_github_delivering_through_a_function_url_starts_one_runner() -> None:
    """The fake GitHub's webhook delivery over HTTP, through the Function URL event adapter."""
    from tests.functions.wake.world import queued_payload

    with wake_world([PoolSpec("graviton", LABELS, 2)]) as world, function_url(world.app) as url:
        status, answer = world.github.deliver_webhook(url, WEBHOOK_SECRET, "workflow_job", queued_payload(LABELS))
        assert (status, answer["status"]) == (200, "started")
        assert world.github.deliver_webhook(url, "forged", "workflow_job", queued_payload(LABELS))[0] == 401
        assert world.github.deliver_webhook(url, WEBHOOK_SECRET, "ping", {"zen": "hi"}) == (200, {"status": "pong"})
        assert world.states("graviton") == ["running", "stopped"]
        assert [d["status"] for d in world.github.deliveries] == [200, 401, 200]
