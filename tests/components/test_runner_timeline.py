"""Runner slots over time: `pulumi up --refresh` heals what GitHub and the clouds do to them.

The real program runs in the lifecycle simulation (tests/fakes/lifecycle.py) with its real dynamic
providers — the GitHub registration against the fake GitHub API on 127.0.0.1, the AWS hand-off against
moto's Parameter Store — on one controllable clock. A simulated host "boots" the way the bootstrap does:
it takes its token from its hand-off (AWS: reads and deletes the SSM parameter; OCI: instance metadata)
and registers with it, which the fake API refuses once the token has expired.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.fakes.github_api import FakeGithub
from tests.fakes.lifecycle import CreateFailed, Lifecycle
from tools.mockengine import reveal

STACK = "tl"
SCOPE = "/repos/octo/app"
REGION = "us-east-1"
HOUR = 3600.0
DAY = 24 * HOUR
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaa" + "d" * 52


class Clock:
    def __init__(self) -> None:
        self.epoch = 1_900_000_000.0

    def now(self) -> float:
        return self.epoch

    def sleep(self, seconds: float) -> None:
        self.epoch += seconds


def stack(*clouds: str, ephemeral: bool = False, idle_minutes: int = 30) -> dict[str, Any]:
    pools = {
        "aws": {"name": "graviton", "cloud": "aws", "count": 1},
        "emulated": {"name": "qemu", "cloud": "emulated", "count": 1},
        "oci": {"name": "ampere", "cloud": "oci", "count": 1, "ocpus": 2, "memoryGb": 12},
    }
    return {
        "aws:region": REGION,
        "github:owner": "octo",
        "github:token": {"secure": "v1:credential"},
        "arm64-runners:github": {"repository": "app"},
        "arm64-runners:runner": {
            "version": "2.331.0",
            "idleAction": "none" if clouds == ("oci",) else "stop",
            "ephemeral": ephemeral,
            "idleTimeoutMinutes": idle_minutes,
        },
        "arm64-runners:pools": [pools[c] for c in clouds],
        "arm64-runners:oci": {"compartmentId": COMPARTMENT},
    }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def github(clock: Clock) -> Iterator[FakeGithub]:
    with FakeGithub(clock=clock.now) as fake:
        fake.add_scope(SCOPE)
        # Credentials the program holds under the mock engine (`{secure: ...}` values).
        fake.credentials.add("mock-secret-value")
        yield fake


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATIMELINE00000001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "timeline-secret")
    with mock_aws():
        yield


def lifecycle(values: dict[str, Any], github: FakeGithub, clock: Clock, **settings: Any) -> Lifecycle:
    return Lifecycle(
        STACK,
        values,
        real_dynamic=True,
        github_api_url=github.api_url,
        now=clock.now,
        sleep=clock.sleep,
        provider_settings=settings,
    )


def runner_name(pool: str) -> str:
    return f"arm64-{STACK}-{pool}-0"


def boot(life: Lifecycle, github: FakeGithub, pool: str) -> None:
    """The host of runner 0 of `pool` takes its token from its hand-off and registers with it."""
    instance = life.entry(f"pool-{pool}-0-instance")
    if "metadata" in instance.inputs:  # OCI: the token is an instance-metadata key
        token = instance.inputs["metadata"]["arm64_runner_token"]
    else:  # EC2: read the SSM parameter named by the instance's tag, then delete it (aws-ssm.sh)
        parameter = instance.inputs["tags"]["arm64-runners:handoff"]
        ssm = boto3.client("ssm", region_name=REGION)
        token = ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
        ssm.delete_parameter(Name=parameter)
    registration = life.entry(f"pool-{pool}-0-registration")
    if registration.outputs["ephemeral"]:
        github.start_jit(SCOPE, token)
    else:
        github.register_runner(SCOPE, runner_name(pool), token)


def writes(github: FakeGithub) -> list[str]:
    return [f"{r.method} {r.path}" for r in github.requests if r.method != "GET"]


def test_a_capacity_retry_hours_later_gets_a_fresh_token(github: FakeGithub, clock: Clock) -> None:
    """(a) The OCI instance fails for capacity; the retry comes 2 h later, after the token expired."""
    life = lifecycle(stack("oci"), github, clock)
    life.fail_create.add("oci:Core/instance:Instance")
    with pytest.raises(CreateFailed):
        life.up()
    first_token = life.entry("pool-ampere-0-registration").outputs["token"]
    life.fail_create.clear()
    clock.sleep(2 * HOUR)

    healed = life.refresh()
    assert healed.gone == {"pool-ampere-0-registration"}
    result = life.up()
    assert {"pool-ampere-0-registration", "pool-ampere-0-instance"} <= result.created
    assert life.entry("pool-ampere-0-registration").outputs["token"] != first_token
    boot(life, github, "ampere")
    assert github.runner_names(SCOPE) == [runner_name("ampere")]


def test_without_the_refresh_the_retried_host_boots_into_an_expired_token(github: FakeGithub, clock: Clock) -> None:
    """The failing variant of (a): what the refresh prevents."""
    life = lifecycle(stack("oci"), github, clock)
    life.fail_create.add("oci:Core/instance:Instance")
    with pytest.raises(CreateFailed):
        life.up()
    life.fail_create.clear()
    clock.sleep(2 * HOUR)
    life.up()
    with pytest.raises(ValueError, match="expired"):
        boot(life, github, "ampere")


def test_a_runner_github_removed_after_14_days_offline_is_reminted_and_replaced(
    github: FakeGithub, clock: Clock
) -> None:
    """(b) An AWS runner stopped by its idle watchdog for two weeks; GitHub removes it."""
    life = lifecycle(stack("aws"), github, clock)
    life.up()
    boot(life, github, "graviton")
    clock.sleep(10 * DAY)
    assert life.refresh().gone == set()  # offline but listed: kept
    assert life.up().changes == {}
    clock.sleep(5 * DAY)
    github.remove_runner(SCOPE, runner_name("graviton"))

    assert life.refresh().gone == {"pool-graviton-0-registration"}
    result = life.up()
    assert "pool-graviton-0-registration" in result.created
    assert {"pool-graviton-0-token", "pool-graviton-0-instance"} <= result.replaced
    boot(life, github, "graviton")
    assert github.runner_names(SCOPE) == [runner_name("graviton")]


def test_an_ephemeral_runner_after_its_job_gets_a_new_jit_config_and_host(github: FakeGithub, clock: Clock) -> None:
    """(c) A JIT runner serves one job and GitHub removes it."""
    life = lifecycle(stack("aws", ephemeral=True), github, clock)
    life.up()
    first = life.entry("pool-graviton-0-registration").outputs["token"]
    boot(life, github, "graviton")
    assert life.refresh().gone == set()
    github.remove_runner(SCOPE, runner_name("graviton"))  # its one job is done

    assert life.refresh().gone == {"pool-graviton-0-registration"}
    result = life.up()
    assert "pool-graviton-0-registration" in result.created and "pool-graviton-0-instance" in result.replaced
    assert life.entry("pool-graviton-0-registration").outputs["token"] != first
    boot(life, github, "graviton")  # the new JIT config reached the new host through the hand-off
    assert github.runner_names(SCOPE) == [runner_name("graviton")]


def test_an_idle_timeout_edit_replaces_instance_and_registration_together(github: FakeGithub, clock: Clock) -> None:
    """(d) idleTimeoutMinutes 30 -> 45 on AWS, emulated and OCI: one new registration per new host."""
    life = lifecycle(stack("aws", "emulated", "oci"), github, clock)
    life.up()
    for pool in ("graviton", "qemu", "ampere"):
        boot(life, github, pool)
    tokens_before = len(github.tokens)
    clock.sleep(3 * DAY)

    result = life.up(stack("aws", "emulated", "oci", idle_minutes=45))
    for pool in ("graviton", "qemu", "ampere"):
        assert {f"pool-{pool}-0-registration", f"pool-{pool}-0-instance"} <= result.replaced, pool
        boot(life, github, pool)  # the new host's token is fresh: it registers
    assert len(github.tokens) == tokens_before + 3
    assert github.runner_names(SCOPE) == sorted(runner_name(p) for p in ("graviton", "qemu", "ampere"))


@pytest.mark.parametrize("failure", ["502", "rate-limited", "secondary-limit", "timeout", "unreachable"])
def test_github_failing_during_refresh_changes_nothing_and_warns(
    github: FakeGithub, clock: Clock, failure: str
) -> None:
    """(e) A refresh during an outage: the registration is kept, the warning names the runner."""
    life = lifecycle(stack("aws"), github, clock, _timeout=0.2)
    life.up()
    clock.sleep(20 * DAY)  # token long expired: only GitHub's answer could justify dropping it
    runners = SCOPE + "/actions/runners"
    if failure == "502":
        github.fail_next("GET", runners, 502, times=99)
    elif failure == "rate-limited":
        github.fail_next("GET", runners, 429, headers={"retry-after": "30"}, times=99)
    elif failure == "secondary-limit":
        github.fail_next("GET", runners, 403, body={"message": "You have exceeded a secondary rate limit"}, times=99)
    elif failure == "timeout":
        github.hang_next("GET", runners, 0.5, times=99)
    else:
        github.stop()
    state_before = copy.deepcopy(life.state)

    refreshed = life.refresh()
    assert refreshed.gone == set()
    assert len(refreshed.warnings) == 1 and runner_name("graviton") in refreshed.warnings[0]
    assert life.state.keys() == state_before.keys()
    assert {k: reveal(e.outputs) for k, e in life.state.items()} == {
        k: reveal(e.outputs) for k, e in state_before.items()
    }


def test_an_online_runner_refreshes_with_one_list_call_and_no_write(github: FakeGithub, clock: Clock) -> None:
    """(f) A healthy, idle fleet: refresh and up change nothing and write nothing."""
    life = lifecycle(stack("aws"), github, clock)
    life.up()
    boot(life, github, "graviton")
    clock.sleep(30 * DAY)
    before, written = len(github.requests), writes(github)

    assert life.refresh().gone == set()
    assert [r.path for r in github.requests[before:]] == [SCOPE + "/actions/runners"]
    assert life.up().changes == {}
    assert writes(github) == written


def test_a_preview_makes_no_github_write(github: FakeGithub, clock: Clock) -> None:
    life = lifecycle(stack("aws", "oci"), github, clock)
    life.up()
    written = writes(github)
    preview = life.preview(stack("aws", "oci", idle_minutes=45))
    assert {"pool-graviton-0-registration", "pool-ampere-0-registration"} <= preview.replaced
    assert writes(github) == written
    assert life.up().changes == {}  # the preview changed no state either


def test_a_lost_always_on_host_is_replaced_after_two_refreshes_see_it_offline(github: FakeGithub, clock: Clock) -> None:
    """(g) idleAction none (the OCI example): Oracle reclaims an idle Always Free instance, its runner
    goes offline for good. A blip is not enough: two refreshes at least 2 h apart must see it offline."""
    life = lifecycle(stack("oci"), github, clock)
    life.up()
    boot(life, github, "ampere")
    github.set_status(SCOPE, runner_name("ampere"), "offline")
    assert life.refresh().gone == set()  # first sight: noted, kept
    clock.sleep(1 * HOUR)
    assert life.refresh().gone == set()  # still within the grace
    github.set_status(SCOPE, runner_name("ampere"), "online")
    assert life.refresh().gone == set()  # back: the mark is cleared
    github.set_status(SCOPE, runner_name("ampere"), "offline")
    life.refresh()
    clock.sleep(3 * HOUR)
    assert life.refresh().gone == {"pool-ampere-0-registration"}
    result = life.up()
    assert "pool-ampere-0-registration" in result.created and "pool-ampere-0-instance" in result.replaced
    boot(life, github, "ampere")
    assert github.runner_names(SCOPE) == [runner_name("ampere")]


def test_a_stopped_idle_runner_offline_for_days_is_kept(github: FakeGithub, clock: Clock) -> None:
    """The failing variant of (g): with idleAction stop, offline is a host asleep, woken by the next job."""
    life = lifecycle(stack("aws"), github, clock)
    life.up()
    boot(life, github, "graviton")
    github.set_status(SCOPE, runner_name("graviton"), "offline")
    for _ in range(4):
        clock.sleep(3 * DAY)
        assert life.refresh().gone == set()
    assert "offline_since" not in life.entry("pool-graviton-0-registration").outputs


def test_idle_terminate_then_up_brings_a_registered_runner_back(github: FakeGithub, clock: Clock) -> None:
    """idleAction terminate: the host terminates itself; a later `pulumi up --refresh` brings a new host
    with a new token (the old hand-off was used)."""
    values = stack("aws")
    values["arm64-runners:runner"]["idleAction"] = "terminate"
    life = lifecycle(values, github, clock)
    life.up()
    boot(life, github, "graviton")
    github.set_status(SCOPE, runner_name("graviton"), "offline")
    life.forget("pool-graviton-0-instance")  # EC2 terminated it: the refresh drops it from the state
    life.refresh()
    clock.sleep(2 * DAY)
    assert life.refresh().gone == {"pool-graviton-0-registration"}
    result = life.up()
    assert {"pool-graviton-0-registration", "pool-graviton-0-instance"} <= result.created
    boot(life, github, "graviton")
    assert github.runner_names(SCOPE) == [runner_name("graviton")]
