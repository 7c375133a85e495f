"""A stack's AWS side on moto plus the fake GitHub API, with the real wake handler in front of it.

    with wake_world([PoolSpec("graviton", LABELS, 2)]) as world:
        response = world.queued(["self-hosted", "ARM64"])        # a signed delivery, as GitHub sends it
        assert world.states("graviton") == ["running", "stopped"]

Instances carry the tags of the hand-off contract (stack, pool, cloud, idle-action, Name, runner,
handoff) and start out stopped, their runners registered on the fake GitHub (offline) unless told not
to be. Used by the handler tests, the timeline test and tools/bench_wake.py.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from functions.wake.handler import App, Request, Response, handle
from functions.wake.settings import PoolSpec, WakeSettings
from functions.wake.signature import sign
from tests.fakes.github_api import DEFAULT_CREDENTIAL, FakeGithub

STACK = "dev"
REGION = "us-east-1"
SCOPE = "/repos/octo/app"
REPOSITORY = "octo/app"
LABELS = ("self-hosted", "linux", "ARM64")
WEBHOOK_SECRET = "wake-world-webhook-secret-9f1c2e"
TOKEN_PARAMETER = f"/arm64-runners-wake/{STACK}/github-token"
SECRET_PARAMETER = f"/arm64-runners-wake/{STACK}/webhook-secret"
TABLE = "arm64-runners-wake-dev"
#: Any AMI id moto knows; the instances never boot.
MOTO_AMI = "ami-12c6146b"
PAYLOADS = Path(__file__).resolve().parent / "payloads"


@functools.cache
def _documented(action: str) -> str:
    return (PAYLOADS / f"workflow_job.{action}.json").read_text()


def documented_payload(action: str) -> dict[str, Any]:
    """GitHub's documented workflow_job example for `action` (see payloads/SOURCES.md)."""
    return json.loads(_documented(action))


def queued_payload(labels: Sequence[str], *, job_id: int = 1, repository: str = REPOSITORY) -> dict[str, Any]:
    """The documented queued example, asking for `labels`, from `repository`."""
    payload = documented_payload("queued")
    payload["workflow_job"].update(id=job_id, labels=list(labels), runner_id=None, runner_name=None)
    payload["repository"]["full_name"] = repository
    payload["repository"]["name"] = repository.split("/")[-1]
    return payload


def delivery_headers(body: bytes, secret: str, *, event: str = "workflow_job", delivery: str = "") -> dict[str, str]:
    """The headers GitHub sends with a webhook delivery (names as a Function URL passes them: lower case)."""
    return {
        "content-type": "application/json",
        "content-length": str(len(body)),
        "user-agent": "GitHub-Hookshot/wake-world",
        "x-github-event": event,
        "x-github-delivery": delivery or str(uuid.uuid4()),
        "x-github-hook-id": "400100",
        "x-hub-signature-256": sign(secret.encode(), body),
    }


def runner_name(pool: str, index: int) -> str:
    return f"arm64-{STACK}-{pool}-{index}"


def handoff_name(runner: str) -> str:
    return f"/arm64-runners/{STACK}/{runner}/0123456789ab/token"


@dataclass
class World:
    settings: WakeSettings
    github: FakeGithub
    app: App
    ec2: Any
    ssm: Any
    dynamodb: Any
    instances: dict[str, list[str]] = field(default_factory=dict)

    def deliver(
        self,
        payload: Any,
        *,
        event: str = "workflow_job",
        delivery: str = "",
        secret: str = WEBHOOK_SECRET,
        headers: dict[str, str] | None = None,
    ) -> Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent = delivery_headers(body, secret, event=event, delivery=delivery)
        sent.update(headers or {})
        return handle(Request("POST", sent, body), self.app)

    def queued(
        self, labels: Sequence[str], *, delivery: str = "", job_id: int = 1, repository: str = REPOSITORY
    ) -> Response:
        return self.deliver(queued_payload(labels, job_id=job_id, repository=repository), delivery=delivery)

    def state(self, instance_id: str) -> str:
        found = self.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        return str(found["State"]["Name"])

    def states(self, pool: str) -> list[str]:
        return [self.state(i) for i in self.instances[pool]]

    def started(self) -> list[str]:
        """Instances of the world's pools that are pending or running (one DescribeInstances call)."""
        ids = [i for ids in self.instances.values() for i in ids]
        pages = self.ec2.describe_instances(InstanceIds=ids)["Reservations"]
        up = {i["InstanceId"] for r in pages for i in r["Instances"] if i["State"]["Name"] in ("pending", "running")}
        return [i for i in ids if i in up]

    def handoff(self, runner: str) -> str | None:
        try:
            answer = self.ssm.get_parameter(Name=handoff_name(runner), WithDecryption=True)
        except self.ssm.exceptions.ParameterNotFound:
            return None
        return str(answer["Parameter"]["Value"])

    def force_state(self, instance_id: str, state: str) -> None:
        """Put an instance in a transitional state moto skips (e.g. `stopping` while the OS powers off)."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ec2.models import ec2_backends

        codes = {"pending": 0, "running": 16, "stopping": 64, "stopped": 80}
        instance = ec2_backends[DEFAULT_ACCOUNT_ID][REGION].get_instance(instance_id)
        instance._state.name, instance._state.code = state, codes[state]

    def stop(self, instance_ids: Sequence[str]) -> None:
        if instance_ids:
            self.ec2.stop_instances(InstanceIds=list(instance_ids))

    def add_instances(self, pool: str, count: int, *, stack: str = STACK, first: int = 0) -> list[str]:
        """`count` runner instances of `pool` in `stack`, stopped (as the idle watchdog leaves them)."""
        ids = []
        for index in range(first, first + count):
            runner = runner_name(pool, index)
            tags = {
                "Name": runner,
                "arm64-runners:stack": stack,
                "arm64-runners:pool": pool,
                "arm64-runners:cloud": "aws",
                "arm64-runners:idle-action": "stop",
                "arm64-runners:runner": runner,
                "arm64-runners:handoff": handoff_name(runner),
                "managed-by": "arm64-runners",
            }
            answer = self.ec2.run_instances(
                ImageId=MOTO_AMI,
                MinCount=1,
                MaxCount=1,
                InstanceType="t4g.medium",
                TagSpecifications=[
                    {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
                ],
            )
            ids.append(answer["Instances"][0]["InstanceId"])
        self.stop(ids)
        return ids


_SESSIONS: list[Any] = []


def _session() -> Any:
    """One boto3 session for every world: its loader keeps the parsed service models (0.4 s for EC2's)."""
    if not _SESSIONS:
        import boto3

        _SESSIONS.append(boto3.session.Session(region_name=REGION))
    return _SESSIONS[0]


@contextmanager
def wake_world(
    pools: Sequence[PoolSpec],
    *,
    ephemeral: bool = False,
    registered: bool = True,
    clock: Callable[[], float] | None = None,
    **settings_overrides: Any,
) -> Iterator[World]:
    """moto (EC2, SSM, DynamoDB) + fake GitHub + the handler's App, with each pool's instances stopped."""
    from moto import mock_aws

    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "testing")
    with mock_aws(), FakeGithub() as github:
        github.add_scope(SCOPE)
        ec2, ssm, dynamodb = (_session().client(s, region_name=REGION) for s in ("ec2", "ssm", "dynamodb"))
        ssm.put_parameter(Name=TOKEN_PARAMETER, Value=DEFAULT_CREDENTIAL, Type="SecureString")
        ssm.put_parameter(Name=SECRET_PARAMETER, Value=WEBHOOK_SECRET, Type="SecureString")
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        settings = WakeSettings(
            stack=STACK,
            api_url=github.api_url,
            scope_path=SCOPE,
            ephemeral=ephemeral,
            token_parameter=TOKEN_PARAMETER,
            secret_parameter=SECRET_PARAMETER,
            table=TABLE,
            pools=tuple(pools),
        )
        settings = replace(settings, **settings_overrides)
        options = {"clock": clock} if clock else {}
        app = App(settings, ec2=ec2, ssm=ssm, dynamodb=dynamodb, **options)
        world = World(settings, github, app, ec2, ssm, dynamodb)
        for pool in pools:
            world.instances[pool.name] = world.add_instances(pool.name, pool.count)
            if registered and not ephemeral:
                for index in range(pool.count):
                    github.add_runner(SCOPE, runner_name(pool.name, index), labels=pool.labels)["status"] = "offline"
        yield world


@contextmanager
def function_url(app: App) -> Iterator[str]:
    """The handler behind an HTTP server on 127.0.0.1, as a Lambda Function URL serves it (payload 2.0)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from functions.wake.handler import request_from

    class Serve(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            event = {
                "version": "2.0",
                "requestContext": {"http": {"method": self.command, "path": self.path}},
                "headers": dict(self.headers.items()),
                "body": raw.decode(),
                "isBase64Encoded": False,
            }
            answer = handle(request_from(event), app).as_lambda()
            payload = answer["body"].encode()
            self.send_response(answer["statusCode"])
            for key, value in answer["headers"].items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Serve)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
