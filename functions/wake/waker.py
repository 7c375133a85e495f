"""Start one stopped runner instance for a queued job; re-register its runner first when it needs it.

For each queued job (after the handler has checked the signature):
1. claim the delivery id in DynamoDB (conditional put): a redelivery starts nothing twice;
2. for each pool that can run the job: one DescribeInstances (stack + pool tags) gives its instances;
   none is started while the pool already has `count` pending/running ones;
3. claim a stopped instance (conditional put with an expiry): two deliveries arriving together start
   two different instances, and never mint two hand-offs for one instance;
4. if the runner is ephemeral, or GitHub no longer lists it (removed after 14 days offline), mint a
   JIT config / registration token and PutParameter it as the runner's hand-off (the instance's
   `arm64-runners:handoff` tag), then StartInstances. A runner GitHub still lists starts as it is;
5. nothing stopped, but a runner is powering off (its idle watchdog fired as the job was queued): wait
   for it to reach `stopped` (bounded, polling) and start it — otherwise the job would wait for the
   next queued job to wake anything.
A failure releases the delivery's claim, so a redelivery from GitHub's UI can try again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from components.github import scope
from components.github.rest import GithubClient

from .jobs import Job, pools_for
from .settings import TAG_HANDOFF, TAG_POOL, TAG_RUNNER, TAG_STACK, PoolSpec, WakeSettings

LOG = logging.getLogger("wake")
#: EC2 answers that mean "this instance cannot start now; another one may".
START_REFUSALS = frozenset(
    {"InsufficientInstanceCapacity", "InsufficientCapacity", "IncorrectInstanceState", "InsufficientHostCapacity"}
)
ACTIVE_STATES = ("pending", "running")
#: SecureStrings over 4 KB (a JIT config can be) need the advanced tier; this tier picks per value.
PARAMETER_TIER = "Intelligent-Tiering"


@dataclass(frozen=True)
class Outcome:
    """What one delivery did; returned to GitHub as the response body (nothing secret)."""

    status: str  # started | duplicate | no-pool | none-stopped | pool-full
    instance_id: str = ""
    runner: str = ""
    pool: str = ""
    #: Why a new registration was handed over ("" = the runner starts as GitHub knows it).
    reregistered: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}


@dataclass(frozen=True)
class Instance:
    instance_id: str
    state: str
    tags: dict[str, str] = field(default_factory=dict)


class Claims:
    """Expiring claims in a DynamoDB table keyed `pk`; an expired claim can be taken again."""

    def __init__(self, dynamodb: Any, table: str, clock: Callable[[], float]) -> None:
        self.dynamodb, self.table, self.clock = dynamodb, table, clock

    def take(self, key: str, seconds: int) -> bool:
        now = int(self.clock())
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item={"pk": {"S": key}, "expires_at": {"N": str(now + seconds)}},
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release(self, key: str) -> None:
        self.dynamodb.delete_item(TableName=self.table, Key={"pk": {"S": key}})


class Waker:
    def __init__(
        self,
        settings: WakeSettings,
        *,
        ec2: Any,
        ssm: Any,
        dynamodb: Any,
        github: Callable[[], GithubClient],
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.ec2, self.ssm = ec2, ssm
        self.github = github
        self.sleep = sleep
        self.claims = Claims(dynamodb, settings.table, clock)
        self._group_id: int | None = None

    def wake(self, job: Job, delivery: str) -> Outcome:
        where = f"delivery {delivery} (job {job.job_id}, run {job.run_id}, {job.repository or '?'})"
        pools = pools_for(job, self.settings)
        if not pools:
            LOG.info("%s: no pool has labels %s; nothing to start", where, list(job.labels))
            return Outcome("no-pool")
        if not self.claims.take(f"delivery#{delivery}", self.settings.delivery_memory_seconds):
            LOG.info("%s: already handled; nothing started again", where)
            return Outcome("duplicate")
        try:
            outcome = self._start_one(pools, where)
        except Exception:
            self.claims.release(f"delivery#{delivery}")
            raise
        if outcome.status != "started":
            LOG.info(
                "%s: %s in pools %s; a runner that is up will take the job",
                where,
                outcome.status,
                [p.name for p in pools],
            )
        return outcome

    def _start_one(self, pools: list[PoolSpec], where: str) -> Outcome:
        status = "none-stopped"
        stopping: list[tuple[PoolSpec, Instance]] = []
        for pool in pools:
            instances = self.instances(pool)
            active = sum(1 for i in instances if i.state in ACTIVE_STATES)
            if active >= pool.count:
                status = "pool-full"
                continue
            for instance in (i for i in instances if i.state == "stopped"):
                outcome = self._claim_and_start(pool, instance, where)
                if outcome is not None:
                    return outcome
            stopping.extend((pool, i) for i in instances if i.state == "stopping")
        for pool, instance in stopping:
            outcome = self._claim_and_start(pool, instance, where, wait=True)
            if outcome is not None:
                return outcome
        return Outcome(status)

    def _claim_and_start(self, pool: PoolSpec, instance: Instance, where: str, *, wait: bool = False) -> Outcome | None:
        """Start `instance` unless another delivery holds it; a claim that started nothing is released.
        A started instance's claim expires by itself, once the instance has left `stopped`."""
        claim = f"instance#{instance.instance_id}"
        hold = self.settings.claim_seconds + (self.settings.stopping_wait_seconds if wait else 0)
        if not self.claims.take(claim, hold):
            return None
        outcome = None
        try:
            if not wait or self._stopped(instance, where):
                outcome = self._start(pool, instance, where)
        finally:
            if outcome is None:
                self.claims.release(claim)
        return outcome

    def _stopped(self, instance: Instance, where: str) -> bool:
        """Wait (bounded) for a powering-off instance to reach `stopped`; False if it does not."""
        polls = max(1, self.settings.stopping_wait_seconds // max(1, self.settings.stopping_poll_seconds))
        for _ in range(polls):
            self.sleep(self.settings.stopping_poll_seconds)
            answer = self.ec2.describe_instances(InstanceIds=[instance.instance_id])
            state = answer["Reservations"][0]["Instances"][0]["State"]["Name"]
            if state == "stopped":
                return True
            if state != "stopping":
                return False
        LOG.warning(
            "%s: %s still stopping after %d s; not started",
            where,
            instance.instance_id,
            self.settings.stopping_wait_seconds,
        )
        return False

    def instances(self, pool: PoolSpec) -> list[Instance]:
        """The pool's instances that are not terminated, in runner-name order."""
        filters = [
            {"Name": f"tag:{TAG_STACK}", "Values": [self.settings.stack]},
            {"Name": f"tag:{TAG_POOL}", "Values": [pool.name]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
        ]
        found = list(_described(self.ec2, filters))
        return sorted(found, key=lambda i: (i.tags.get(TAG_RUNNER, ""), i.instance_id))

    def _start(self, pool: PoolSpec, instance: Instance, where: str) -> Outcome | None:
        runner, handoff = instance.tags.get(TAG_RUNNER), instance.tags.get(TAG_HANDOFF)
        if not runner:
            LOG.warning("%s: instance %s has no %s tag; skipped", where, instance.instance_id, TAG_RUNNER)
            return None
        reason = self._registration_needed(runner)
        if reason:
            if not handoff or not handoff.startswith(f"/arm64-runners/{self.settings.stack}/"):
                LOG.warning(
                    "%s: %s needs a new registration (%s) but its instance %s has no hand-off tag; skipped",
                    where,
                    runner,
                    reason,
                    instance.instance_id,
                )
                return None
            self.ssm.put_parameter(
                Name=handoff, Value=self._mint(runner, pool), Type="SecureString", Overwrite=True, Tier=PARAMETER_TIER
            )
        try:
            answer = self.ec2.start_instances(InstanceIds=[instance.instance_id])
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code not in START_REFUSALS:
                raise
            LOG.warning("%s: EC2 refused to start %s (%s); trying another", where, instance.instance_id, code)
            return None
        previous = answer["StartingInstances"][0]["PreviousState"]["Name"]
        LOG.info(
            "%s: started %s (runner %s, pool %s, was %s)%s",
            where,
            instance.instance_id,
            runner,
            pool.name,
            previous,
            f", new registration handed over ({reason})" if reason else "",
        )
        return Outcome("started", instance.instance_id, runner, pool.name, reason)

    def _registration_needed(self, runner: str) -> str:
        if self.settings.ephemeral:
            return "ephemeral runner: fresh JIT config"
        if scope.find_runner(self.github(), self.settings.scope_path, runner) is None:
            return "GitHub no longer lists the runner"
        return ""

    def _mint(self, runner: str, pool: PoolSpec) -> str:
        client, path = self.github(), self.settings.scope_path
        if not self.settings.ephemeral:
            return scope.mint_registration_token(client, path).token
        if self._group_id is None:
            self._group_id = scope.resolve_runner_group_id(client, path, self.settings.runner_group)
        jit = scope.generate_jit_config_for_slot(
            client, path, runner, list(pool.labels), self._group_id, busy_timeout_seconds=0
        )
        return jit.encoded_jit_config


def _described(ec2: Any, filters: list[dict[str, Any]]) -> Iterator[Instance]:
    for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
        for reservation in page.get("Reservations", []):
            for entry in reservation.get("Instances", []):
                yield Instance(
                    instance_id=entry["InstanceId"],
                    state=entry["State"]["Name"],
                    tags={t["Key"]: t["Value"] for t in entry.get("Tags", [])},
                )
