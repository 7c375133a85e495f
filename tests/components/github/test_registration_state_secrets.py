"""Registration tokens (and JIT configs) are secret in the state the engine keeps, for every runner.

The mock engine now treats `additional_secret_outputs` as the real engine does: an output is secret in
state only when the resource declares it (tools/mockengine/engine.py); the GitHub answers return the
token plain, as a provider does. So these tests fail when a registration stops declaring its token —
and when any resource records a token outside a secret, whatever resource carries it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from tests.components.aws import hardening as h
from tools.mockengine import PlanResult, is_secret, reveal, run_stack
from tools.mockengine.engine import _mark_secret

OCI = {"compartmentId": "ocid1.compartment.oc1..aaaaaaaa4n3qbfy5wr7kvtlhqkz4w2wyrxn6lyjsbbxtnhdgsq3pgcmbfkqa"}
OCI_POOL = {"name": "ampere", "cloud": "oci", "count": 1, "ocpus": 1, "memoryGb": 6, "diskGb": 50}


def _stack(ephemeral: bool) -> dict[str, Any]:
    config = h.stack(h.aws_pool(count=1), h.emulated_pool(count=1), runner={"ephemeral": ephemeral})
    config["arm64-runners:pools"].append(dict(OCI_POOL))
    config["arm64-runners:oci"] = dict(OCI)
    return config


@pytest.fixture(scope="module", params=[False, True], ids=["registration-token", "jit-config"])
def plan(request: pytest.FixtureRequest) -> PlanResult:
    result = run_stack("dev", _stack(request.param))
    assert result.error is None, result.error
    return result


def registrations(result: PlanResult) -> list[Any]:
    """Resources whose state carries a minted token: the runner registrations, whatever their class."""
    return [r for r in result.resources if "token" in r.outputs and "runner_name" in r.plain_inputs]


def _plain_strings(value: Any) -> Iterator[str]:
    """Every string in `value` that is not inside a secret."""
    if is_secret(value):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _plain_strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _plain_strings(inner)


def assert_tokens_secret_in_state(result: PlanResult) -> None:
    found = registrations(result)
    assert result.config is not None
    assert len(found) == sum(p.count for p in result.config.pools), "one registration per runner"
    tokens = set()
    for registration in found:
        assert "token" in registration.additional_secret_outputs, f"{registration.name}: token not declared secret"
        assert is_secret(registration.outputs["token"]), f"{registration.name}: token plain in state"
        tokens.add(str(reveal(registration.outputs["token"])))
    assert all(tokens), tokens
    for resource in result.resources:
        for where, value in (("inputs", resource.inputs), ("outputs", resource.outputs)):
            leaked = [s for s in _plain_strings(value) for t in tokens if t in s]
            assert not leaked, f"{resource.name}: a token in plaintext {where}"
    for name, value in result.outputs.items():
        if name not in result.secret_outputs:
            assert not [s for s in _plain_strings(value) for t in tokens if t in s], f"stack output {name}"


def test_every_token_is_a_declared_secret_and_nowhere_plain(plan: PlanResult) -> None:
    assert_tokens_secret_in_state(plan)


def test_a_registration_that_no_longer_declares_its_token_fails(plan: PlanResult) -> None:
    """The weakened copy: what the engine records when `additional_secret_outputs` is emptied."""
    weakened = copy.deepcopy(plan)
    registration = registrations(weakened)[0]
    registration.additional_secret_outputs = []
    registration.outputs = reveal(registration.outputs)
    with pytest.raises(AssertionError, match=r"token not declared secret|token plain in state"):
        assert_tokens_secret_in_state(weakened)
    registration.additional_secret_outputs = ["token"]
    with pytest.raises(AssertionError, match="token plain in state"):
        assert_tokens_secret_in_state(weakened)


def test_a_token_copied_into_a_plain_input_fails(plan: PlanResult) -> None:
    weakened = copy.deepcopy(plan)
    token = reveal(registrations(weakened)[0].outputs["token"])
    host = weakened.resources[-1]
    host.inputs = {**host.inputs, "description": f"runner token {token}"}
    with pytest.raises(AssertionError, match="a token in plaintext inputs"):
        assert_tokens_secret_in_state(weakened)


def test_the_engine_marks_only_declared_outputs_secret() -> None:
    state = _mark_secret({"token": "t", "expires_at": "x"}, ["token"])
    assert is_secret(state["token"]) and reveal(state["token"]) == "t"
    assert state["expires_at"] == "x"
