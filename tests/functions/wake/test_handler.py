"""The wake handler on moto (EC2, SSM, DynamoDB) and the fake GitHub API: every case of the issue's Proof."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.wake import handler as lambda_entry
from functions.wake.handler import MAX_BODY_BYTES
from functions.wake.settings import ENVIRONMENT_VARIABLE, PoolSpec
from tests.functions.wake.world import (
    LABELS,
    SCOPE,
    STACK,
    WEBHOOK_SECRET,
    World,
    documented_payload,
    handoff_name,
    queued_payload,
    runner_name,
    wake_world,
)

GRAVITON = PoolSpec("graviton", LABELS, 2)
QEMU = PoolSpec("qemu", (*LABELS, "emulated"), 1)


@pytest.fixture
def world() -> Any:
    with wake_world([GRAVITON, QEMU]) as built:
        yield built


def minted(world: World, kind: str) -> list[str]:
    return [t["token"] for t in world.github.tokens if t["kind"] == kind]


def test_a_matching_queued_job_starts_exactly_one_stopped_instance(world: World) -> None:
    response = world.queued(["self-hosted", "linux", "ARM64"], delivery="d-1")
    assert response.status == 200 and response.body["status"] == "started"
    assert world.states("graviton") == ["running", "stopped"]
    assert world.states("qemu") == ["stopped"]  # graviton comes first in the stack
    assert response.body["instance_id"] == world.instances["graviton"][0]
    # GitHub still lists the runner: it starts as it is, no token minted, nothing handed over.
    assert minted(world, "registration") == [] and minted(world, "jit") == []
    assert world.handoff(runner_name("graviton", 0)) is None
    assert "reregistered" not in response.body


def test_a_pool_label_picks_that_pool(world: World) -> None:
    response = world.queued(["self-hosted", "EMULATED"])
    assert response.body["pool"] == "qemu"
    assert world.states("qemu") == ["running"] and world.states("graviton") == ["stopped", "stopped"]


def test_label_mismatch_starts_nothing(world: World) -> None:
    assert world.queued(["self-hosted", "linux", "X64"]).body == {"status": "no-pool"}
    # GitHub's documented queued example asks for a hosted runner (ubuntu-latest).
    assert world.deliver(documented_payload("queued")).body == {"status": "no-pool"}
    assert world.started() == []


@pytest.mark.parametrize(
    "headers",
    [
        {"x-hub-signature-256": ""},
        {"x-hub-signature-256": "sha256=" + "0" * 64},
        {"x-hub-signature-256": "garbage"},
    ],
)
def test_bad_or_missing_signature_is_401_and_starts_nothing(world: World, headers: dict[str, str]) -> None:
    response = world.deliver(queued_payload(LABELS), headers=headers)
    assert response.status == 401
    assert world.started() == []


def test_a_signature_made_with_another_secret_is_401(world: World) -> None:
    assert world.deliver(queued_payload(LABELS), secret="not-the-secret").status == 401
    assert world.started() == []


def test_the_signature_is_checked_before_the_body_is_parsed(world: World) -> None:
    assert world.deliver(b"{not json", headers={"x-hub-signature-256": "sha256=" + "1" * 64}).status == 401
    assert world.deliver(b"{not json").status == 400  # signed: then it is read, and refused


def test_a_redelivery_starts_nothing_twice(world: World) -> None:
    first = world.queued(LABELS, delivery="same-guid")
    again = world.queued(LABELS, delivery="same-guid")
    assert first.body["status"] == "started" and again.body == {"status": "duplicate"}
    assert len(world.started()) == 1


def test_two_queued_jobs_start_two_instances(world: World) -> None:
    first = world.queued(LABELS, delivery="d-1", job_id=1)
    second = world.queued(LABELS, delivery="d-2", job_id=2)
    assert first.body["instance_id"] != second.body["instance_id"]
    assert world.states("graviton") == ["running", "running"]


def test_an_exhausted_pool_starts_none_beyond_its_count(world: World) -> None:
    answers = [world.queued(["self-hosted", "emulated"], delivery=f"d-{i}").body["status"] for i in range(3)]
    assert answers == ["started", "pool-full", "pool-full"]
    assert world.states("qemu") == ["running"]


def test_a_stray_instance_with_the_pool_tag_never_raises_the_pool_over_its_count(world: World) -> None:
    stray = world.add_instances("qemu", 1, first=7)  # e.g. a copy someone launched from the template
    statuses = [world.queued(["emulated"], delivery=f"d-{i}").body["status"] for i in range(2)]
    assert statuses == ["started", "pool-full"]
    assert [world.state(i) for i in world.instances["qemu"] + stray].count("running") == 1


def test_a_runner_powering_off_as_its_job_arrives_is_waited_for_and_started(world: World) -> None:
    (only,) = world.instances["qemu"]
    world.force_state(only, "stopping")  # its idle watchdog fired just as the job was queued
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:
            world.force_state(only, "stopped")

    world.app.waker.sleep = sleep
    response = world.queued(["emulated"])
    assert response.body["status"] == "started" and response.body["instance_id"] == only
    assert slept == [3, 3] and world.state(only) == "running"


def test_a_runner_stuck_stopping_is_given_up_on_within_the_bound(world: World) -> None:
    (only,) = world.instances["qemu"]
    world.force_state(only, "stopping")
    slept: list[float] = []
    world.app.waker.sleep = slept.append
    assert world.queued(["emulated"], delivery="d-1").body == {"status": "none-stopped"}
    assert sum(slept) == world.settings.stopping_wait_seconds
    world.force_state(only, "stopped")  # its claim was released: the next job starts it
    assert world.queued(["emulated"], delivery="d-2").body["instance_id"] == only


def test_instances_of_another_stack_are_never_started(world: World) -> None:
    other = world.add_instances("qemu", 1, stack="prod")
    world.queued(["emulated"], delivery="d-1")
    assert world.queued(["emulated"], delivery="d-2").body["status"] == "pool-full"
    assert world.state(other[0]) == "stopped"


def test_an_instance_claimed_by_a_concurrent_delivery_is_left_to_it(world: World) -> None:
    first, second = world.instances["graviton"]
    assert world.app.waker.claims.take(f"instance#{first}", 120)  # another invocation is starting it
    response = world.queued(LABELS, delivery="d-1")
    assert response.body["instance_id"] == second
    assert world.state(first) == "stopped"


def test_a_capacity_refusal_moves_on_to_the_next_instance(world: World, monkeypatch) -> None:
    ec2 = world.app.waker.ec2
    first = world.instances["graviton"][0]
    real_start = ec2.start_instances

    def start(InstanceIds: list[str]) -> Any:
        if InstanceIds == [first]:
            raise ClientError({"Error": {"Code": "InsufficientInstanceCapacity", "Message": "none"}}, "StartInstances")
        return real_start(InstanceIds=InstanceIds)

    monkeypatch.setattr(ec2, "start_instances", start)
    assert world.queued(LABELS).body["instance_id"] == world.instances["graviton"][1]
    # The refused instance is not left claimed: the next delivery may try it again.
    monkeypatch.setattr(ec2, "start_instances", real_start)
    assert world.queued(LABELS).body["instance_id"] == first


def test_a_runner_github_no_longer_lists_gets_a_registration_token_before_its_start(world: World) -> None:
    runner = runner_name("graviton", 0)
    with world.github.lock:
        world.github.runners[SCOPE] = {k: r for k, r in world.github.runners[SCOPE].items() if r["name"] != runner}
    seen = record_handoff_at_start(world, runner)
    response = world.queued(LABELS)
    assert response.body["reregistered"] == "GitHub no longer lists the runner"
    (token,) = minted(world, "registration")
    assert seen == [token] and world.handoff(runner) == token
    # What the bootstrap does with it on that boot (the other half of the contract):
    world.github.register_runner(SCOPE, runner, token)
    assert runner in world.github.runner_names(SCOPE)


def test_ephemeral_runners_get_a_fresh_jit_config_in_the_handoff_before_start() -> None:
    with wake_world([GRAVITON], ephemeral=True) as world:
        runner = runner_name("graviton", 0)
        seen = record_handoff_at_start(world, runner)
        response = world.queued(LABELS)
        assert response.body["reregistered"] == "ephemeral runner: fresh JIT config"
        (jit,) = minted(world, "jit")
        assert seen == [jit]
        (request,) = world.github.requests_to("POST", SCOPE + "/actions/runners/generate-jitconfig")
        assert request.body == {"name": runner, "labels": list(LABELS), "runner_group_id": 1}
        # Its previous registration (an ephemeral runner that never got a job) is replaced, not refused.
        world.stop(world.started())
        world.github.add_runner(SCOPE, runner_name("graviton", 1))
        world.queued(LABELS, delivery="d-2")
        assert len(minted(world, "jit")) == 2
        assert world.github.runner_names(SCOPE).count(runner_name("graviton", 1)) == 1


def record_handoff_at_start(world: World, runner: str) -> list[str | None]:
    """The hand-off parameter's value at the moment StartInstances is called."""
    seen: list[str | None] = []
    world.app.waker.ec2.meta.events.register(
        "before-call.ec2.StartInstances", lambda **_: seen.append(world.handoff(runner))
    )
    return seen


@pytest.mark.parametrize("action", ["in_progress", "completed"])
def test_other_actions_answer_2xx_and_do_nothing(world: World, action: str) -> None:
    payload = documented_payload(action)
    payload["workflow_job"]["labels"] = list(LABELS)
    response = world.deliver(payload)
    assert response.status == 200 and response.body == {"status": "ignored", "action": action}
    assert world.started() == [] and world.github.requests == []


def test_other_events_answer_2xx_and_do_nothing(world: World) -> None:
    assert world.deliver({"zen": "Keep it logically awesome."}, event="ping").body == {"status": "pong"}
    assert world.deliver(queued_payload(LABELS), event="push").body == {"status": "ignored", "event": "push"}
    assert world.started() == []


def test_bodies_over_one_mib_are_refused_before_anything_else(world: World) -> None:
    body = json.dumps({**queued_payload(LABELS), "padding": "x" * MAX_BODY_BYTES}).encode()
    assert world.deliver(body).status == 413
    lying = world.deliver(queued_payload(LABELS), headers={"content-length": str(MAX_BODY_BYTES + 1)})
    assert lying.status == 413
    assert world.started() == []


def test_only_post_is_served(world: World) -> None:
    from functions.wake.handler import Request, handle

    assert handle(Request("GET", {}, b""), world.app).status == 405


def test_jobs_of_repositories_outside_the_runner_group_wake_nothing() -> None:
    with wake_world([GRAVITON], repositories=("octo/app",)) as world:
        assert world.queued(LABELS, repository="octo/other").body == {"status": "no-pool"}
        assert world.queued(LABELS, repository="Octo/App").body["status"] == "started"


def test_a_github_failure_is_502_and_a_redelivery_can_retry(world: World) -> None:
    runner = runner_name("graviton", 0)
    with world.github.lock:
        world.github.runners[SCOPE] = {}
    world.github.fail_next("POST", SCOPE + "/actions/runners/registration-token", 401)
    failed = world.queued(LABELS, delivery="d-1")
    assert failed.status == 502 and world.started() == []
    retried = world.queued(LABELS, delivery="d-1")  # "Redeliver" in GitHub's UI
    assert retried.body["status"] == "started" and world.handoff(runner) == minted(world, "registration")[0]


def test_logs_name_delivery_and_instance_and_never_a_secret(caplog) -> None:
    caplog.set_level(logging.INFO, logger="wake")
    with wake_world([GRAVITON], ephemeral=True) as world:
        world.queued(LABELS, delivery="guid-42")
        world.deliver(queued_payload(LABELS), secret="forged", delivery="guid-43")
        instance = world.instances["graviton"][0]
        secrets = [WEBHOOK_SECRET, world.github.tokens[0]["token"], *sorted(world.github.credentials)]
    text = caplog.text
    assert f"delivery guid-42 (job 1, run 2202229078, octo/app): started {instance}" in text
    assert "delivery guid-43: refused, bad or missing X-Hub-Signature-256" in text
    for secret in secrets:
        assert secret not in text


def test_the_lambda_entry_point_serves_function_url_events(monkeypatch) -> None:
    with wake_world([GRAVITON]) as world:
        monkeypatch.setenv(ENVIRONMENT_VARIABLE, world.settings.to_json())
        monkeypatch.setattr(lambda_entry, "_app", None)
        body = json.dumps(queued_payload(LABELS)).encode()
        from tests.functions.wake.world import delivery_headers

        event = {
            "version": "2.0",
            "requestContext": {"http": {"method": "POST", "path": "/"}},
            "headers": {k.title(): v for k, v in delivery_headers(body, WEBHOOK_SECRET).items()},
            "body": base64.b64encode(body).decode(),
            "isBase64Encoded": True,
        }
        answer = lambda_entry.handler(event, None)
        assert answer["statusCode"] == 200 and json.loads(answer["body"])["status"] == "started"
        assert world.states("graviton") == ["running", "stopped"]


def test_handoff_names_outside_the_stack_are_never_written(world: World) -> None:
    """A tampered hand-off tag cannot make the function write another stack's parameter."""
    runner = runner_name("graviton", 0)
    first = world.instances["graviton"][0]
    world.ec2.create_tags(Resources=[first], Tags=[{"Key": "arm64-runners:handoff", "Value": "/arm64-runners/prod/x"}])
    with world.github.lock:
        world.github.runners[SCOPE] = {}
    response = world.queued(LABELS)
    assert response.body["instance_id"] == world.instances["graviton"][1]
    assert world.state(first) == "stopped" and world.handoff(runner) is None
    assert handoff_name(runner).startswith(f"/arm64-runners/{STACK}/")
