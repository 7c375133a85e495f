"""RunnerRegistration as a resource: what it registers, what is secret, what is stable."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pulumi
from pulumi.runtime import rpc

from components.github import RunnerRegistration, RunnerRegistrationArgs
from tests.components.github.conftest import REPO
from tests.fakes.mock_run import run_under_mocks

CREDENTIAL = "ghp_stack_credential_abc123"
ROOT = Path(__file__).resolve().parents[3]


def registration(name: str = "dev-a-0-registration", **overrides) -> RunnerRegistration:
    args = {
        "api_url": "https://api.github.com",
        "scope_path": REPO,
        "runner_name": "arm64-dev-a-0",
        "labels": ("self-hosted", "linux", "ARM64"),
        "ephemeral": False,
        "runner_group": None,
        "replacement_fingerprint": "fp-1",
        "github_token": pulumi.Output.secret(CREDENTIAL),
    }
    args.update(overrides)
    return RunnerRegistration(name, RunnerRegistrationArgs(**args))


def build_one(**overrides):
    def build():
        reg = registration(**overrides)
        return {"token": reg.token, "expires_at": reg.expires_at, "runner_name": reg.runner_name}

    return build


def test_token_is_a_secret_output_and_expiry_and_name_are_plain() -> None:
    run = run_under_mocks(build_one())
    assert run.secret["token"] is True
    assert run.values["token"].startswith("AAMOCK")
    assert run.secret["expires_at"] is False and run.values["expires_at"]
    assert run.values["runner_name"] == "arm64-dev-a-0"


def test_token_stays_secret_even_if_the_engine_returns_it_plain(monkeypatch) -> None:
    import tools.mockengine.invokes_github as answers

    monkeypatch.setattr(answers, "dynamic_outputs", lambda inputs: {"token": "AAPLAIN", "expires_at": "x"})
    run = run_under_mocks(build_one())
    assert run.values["token"] == "AAPLAIN" and run.secret["token"] is True


def test_credential_is_a_secret_input_and_the_token_a_declared_secret_output() -> None:
    run = run_under_mocks(build_one())
    (args,) = run.resources
    assert args.typ == "pulumi-python:dynamic:Resource"
    assert rpc.is_rpc_secret(args.inputs["github_token"])
    assert rpc.unwrap_rpc_secret(args.inputs["github_token"]) == CREDENTIAL
    plain = {k: v for k, v in args.inputs.items() if k not in ("github_token", "__provider")}
    assert CREDENTIAL not in json.dumps(plain)
    assert plain == {
        "api_url": "https://api.github.com",
        "scope_path": REPO,
        "runner_name": "arm64-dev-a-0",
        "labels": ["self-hosted", "linux", "ARM64"],
        "ephemeral": False,
        "runner_group": "",
        "replacement_fingerprint": "fp-1",
        "busy_timeout_seconds": 600,
        "stops_when_idle": False,
    }


def test_registration_is_deleted_before_it_is_replaced() -> None:
    run = run_under_mocks(build_one())
    request = run.requests["dev-a-0-registration"]
    assert request.deleteBeforeReplace is True
    assert set(request.additionalSecretOutputs) == {"token", "github_token"}


def test_ephemeral_registration_yields_a_secret_jit_config() -> None:
    run = run_under_mocks(build_one(ephemeral=True))
    assert run.secret["token"] is True and run.values["token"].startswith("AAMOCKJIT")


def test_runner_group_output_makes_the_registration_carry_its_name() -> None:
    def build():
        reg = registration(runner_group=pulumi.Output.from_input("arm64"))
        return {"token": reg.token}

    run = run_under_mocks(build)
    assert run.resources[0].inputs["runner_group"] == "arm64"


def _serialized_provider(run) -> str:
    blob = run.resources[0].inputs["__provider"]
    assert rpc.is_rpc_secret(blob), "the serialized provider is stored as a secret"
    return rpc.unwrap_rpc_secret(blob)


def test_serialized_provider_holds_no_credential_and_is_deterministic() -> None:
    first = _serialized_provider(run_under_mocks(build_one()))
    second = _serialized_provider(run_under_mocks(build_one()))
    assert first == second
    raw = base64.b64decode(first)
    assert CREDENTIAL.encode() not in raw and CREDENTIAL not in first


def test_inputs_are_identical_when_the_program_runs_twice() -> None:
    def inputs():
        (args,) = run_under_mocks(build_one()).resources
        return {k: rpc.unwrap_rpc_secret(v) for k, v in args.inputs.items()}

    assert inputs() == inputs()


def test_serialized_provider_loads_and_works_in_a_fresh_provider_process() -> None:
    """Pulumi runs dynamic providers in another process (cwd = project root) from the dill blob."""
    blob = _serialized_provider(run_under_mocks(build_one()))
    script = (
        "import base64, sys, dill\n"
        "provider = dill.loads(base64.b64decode(sys.stdin.read()))\n"
        "olds = {'runner_name': 'a', 'labels': ['x'], 'github_token': 'one'}\n"
        "news = {'runner_name': 'a', 'labels': ['x', 'y'], 'github_token': 'two'}\n"
        "print(type(provider).__name__, provider.diff('id', olds, news).replaces)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=blob,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert done.stdout.strip() == "RunnerRegistrationProvider ['labels']"
