"""Lambda entry point behind the Function URL: `wake.handler.handler`.

Order matters: method and size are checked first, then the signature over the raw bytes — nothing is
parsed before the body is known to come from GitHub. Other events and actions get a 2xx and do nothing
(GitHub marks non-2xx deliveries as failed). Failures answer 5xx without detail; the log has it, and
never a secret (the GitHub client keeps its credential out of every message).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from components.github.rest import GithubApiError, GithubClient

from .jobs import PayloadError, parse_job
from .settings import ENVIRONMENT_VARIABLE, WakeSettings
from .signature import verify
from .waker import LOG, Waker

#: GitHub caps webhook payloads at 25 MB; a workflow_job payload is a few KB. Anything larger is refused.
MAX_BODY_BYTES = 1024 * 1024
#: A rotated credential (`pulumi up` rewrites the parameters) reaches warm containers within this time.
CREDENTIAL_TTL_SECONDS = 300


@dataclass(frozen=True)
class Request:
    method: str
    #: Header names in lower case (Function URLs deliver them so).
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Response:
    status: int
    body: dict[str, Any]

    def as_lambda(self) -> dict[str, Any]:
        return {
            "statusCode": self.status,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(self.body, separators=(",", ":")),
        }


class Credentials:
    """The GitHub credential and the webhook secret, read together from SSM and kept for a while."""

    def __init__(self, ssm: Any, settings: WakeSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.ssm, self.settings, self.clock = ssm, settings, clock
        self._values: tuple[str, bytes] | None = None
        self._read_at = 0.0

    def _load(self) -> tuple[str, bytes]:
        if self._values is None or self.clock() - self._read_at > CREDENTIAL_TTL_SECONDS:
            names = [self.settings.token_parameter, self.settings.secret_parameter]
            answer = self.ssm.get_parameters(Names=names, WithDecryption=True)
            values = {p["Name"]: p["Value"] for p in answer.get("Parameters", [])}
            missing = [n for n in names if n not in values]
            if missing:
                raise LookupError(f"SSM parameters missing: {', '.join(missing)} (run `pulumi up` for the stack)")
            self._values = (values[names[0]], values[names[1]].encode())
            self._read_at = self.clock()
        return self._values

    def github_token(self) -> str:
        return self._load()[0]

    def webhook_secret(self) -> bytes:
        return self._load()[1]


class App:
    """Everything one container keeps between invocations."""

    def __init__(self, settings: WakeSettings, *, ec2: Any, ssm: Any, dynamodb: Any, **waker_options: Any) -> None:
        self.settings = settings
        self.credentials = Credentials(ssm, settings)
        self.waker = Waker(settings, ec2=ec2, ssm=ssm, dynamodb=dynamodb, github=self.github, **waker_options)

    def github(self) -> GithubClient:
        # Bounded for a 30 s function: few retries, short waits, no waiting out a rate limit.
        return GithubClient(
            api_url=self.settings.api_url,
            token=self.credentials.github_token(),
            scope_path=self.settings.scope_path,
            max_attempts=3,
            max_backoff_seconds=1.0,
            max_rate_limit_waits=0,
            timeout_seconds=5.0,
        )


def handle(request: Request, app: App) -> Response:
    if request.method != "POST":
        return Response(405, {"error": "POST a GitHub webhook delivery"})
    declared = request.headers.get("content-length", "0")
    if len(request.body) > MAX_BODY_BYTES or (declared.isdigit() and int(declared) > MAX_BODY_BYTES):
        return Response(413, {"error": f"body over {MAX_BODY_BYTES} bytes"})
    delivery = request.headers.get("x-github-delivery", "")
    try:
        secret = app.credentials.webhook_secret()
    except (ClientError, BotoCoreError, LookupError) as error:
        LOG.error("delivery %s: cannot read the webhook secret: %s", delivery or "(no id)", error)
        return Response(500, {"error": "the function cannot read its settings; see its log"})
    if not verify(secret, request.body, request.headers.get("x-hub-signature-256")):
        LOG.warning("delivery %s: refused, bad or missing X-Hub-Signature-256", delivery or "(no id)")
        return Response(401, {"error": "bad or missing signature"})
    event = request.headers.get("x-github-event", "")
    if event == "ping":
        return Response(200, {"status": "pong"})
    if event != "workflow_job":
        return Response(200, {"status": "ignored", "event": event})
    try:
        job = parse_job(json.loads(request.body))
    except (ValueError, PayloadError) as error:
        return Response(400, {"error": f"not a workflow_job payload: {error}"})
    if job.action != "queued":
        return Response(200, {"status": "ignored", "action": job.action})
    if not delivery:
        return Response(400, {"error": "no X-GitHub-Delivery header"})
    try:
        outcome = app.waker.wake(job, delivery)
    except GithubApiError as error:
        LOG.error("delivery %s: GitHub call failed: %s", delivery, error)
        return Response(502, {"error": "GitHub call failed; see the function's log"})
    except (ClientError, BotoCoreError) as error:
        LOG.error("delivery %s: AWS call failed: %s", delivery, error)
        return Response(500, {"error": "AWS call failed; see the function's log"})
    return Response(200, outcome.as_dict())


def request_from(event: Mapping[str, Any]) -> Request:
    """A Function URL event (payload format 2.0) as a Request."""
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    return Request(method=method, headers=headers, body=body)


_app: App | None = None


def _lambda_app() -> App:
    global _app
    if _app is None:
        import boto3

        logging.getLogger().setLevel(logging.INFO)
        settings = WakeSettings.from_json(os.environ[ENVIRONMENT_VARIABLE])
        _app = App(settings, ec2=boto3.client("ec2"), ssm=boto3.client("ssm"), dynamodb=boto3.client("dynamodb"))
    return _app


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    return handle(request_from(event), _lambda_app()).as_lambda()
