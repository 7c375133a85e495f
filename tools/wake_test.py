"""Send a signed synthetic `workflow_job` `queued` delivery to a stack's wake function.

    python -m tools.wake_test --stack NAME [--labels a,b] [--url URL]      (`make wake-test STACK=…`)

What an operator runs after `pulumi up` to see the wake path work without queuing a real job: the URL is
the stack output `wakeUrl`; the webhook secret is read from the SSM SecureString the stack output
`wakeSecretParameter` names (AWS credentials that may read it are needed), or taken from
$ARM64_RUNNERS_WEBHOOK_SECRET. The job asks for the stack's runs-on labels (or --labels) and comes from
the stack's repository. A stopped runner that matches is really started (it idles off again after
idleTimeoutMinutes). Prints the function's answer: which instance started, or why none did.
The secret is never printed, logged or passed in argv.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any

from components.config.model import StackConfig
from components.fleet import runs_on_labels
from functions.wake.signature import sign
from tools.ops.stack import OpsError, load_stack, pulumi_outputs

SECRET_ENV = "ARM64_RUNNERS_WEBHOOK_SECRET"
URL_OUTPUT = "wakeUrl"
SECRET_PARAMETER_OUTPUT = "wakeSecretParameter"
_REGION = re.compile(r"\.lambda-url\.([a-z0-9-]+)\.on\.aws")


def repository_of(config: StackConfig) -> str:
    """A repository whose jobs the stack's runners may take."""
    github = config.github
    if not github.organization:
        return f"{github.owner}/{github.repository}"
    if github.group_repositories:
        return f"{github.owner}/{github.group_repositories[0]}"
    return f"{github.owner}/wake-test"


def queued_payload(labels: list[str], repository: str) -> dict[str, Any]:
    """A minimal `workflow_job` `queued` payload with the fields the wake function reads."""
    job_id = random.randint(10**9, 2 * 10**9)
    return {
        "action": "queued",
        "workflow_job": {
            "id": job_id,
            "run_id": job_id,
            "name": "arm64-runners wake-test",
            "status": "queued",
            "labels": labels,
            "runner_id": None,
            "runner_name": None,
        },
        "repository": {"full_name": repository, "name": repository.split("/")[-1]},
        "sender": {"login": "arm64-runners-wake-test"},
    }


def webhook_secret(parameter: str, url: str) -> str:
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    match = _REGION.search(url)
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise OpsError(f"boto3 is needed to read the webhook secret (make venv), or set {SECRET_ENV}") from None
    try:
        ssm = boto3.client("ssm", region_name=match.group(1) if match else None)
        return str(ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"])
    except (BotoCoreError, ClientError) as error:
        raise OpsError(
            f"could not read the webhook secret from SSM parameter {parameter} ({type(error).__name__}); "
            f"use AWS credentials allowed to read it, or set {SECRET_ENV}"
        ) from None


def send(url: str, secret: str, payload: dict[str, Any], timeout: float = 30.0) -> tuple[int, str, str]:
    """POST the payload as GitHub does; returns (status, delivery id, response body)."""
    body = json.dumps(payload).encode()
    delivery = f"wake-test-{uuid.uuid4()}"
    request = urllib.request.Request(url, data=body, method="POST")
    for key, value in {
        "Content-Type": "application/json",
        "User-Agent": "arm64-runners-wake-test",
        "X-GitHub-Event": "workflow_job",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(secret.encode(), body),
    }.items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, delivery, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, delivery, error.read().decode("utf-8", "replace")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--labels", help="comma-separated job labels (default: the stack's runs-on labels)")
    parser.add_argument("--url", help="the wake URL (default: the stack output wakeUrl)")
    args = parser.parse_args(argv)
    try:
        config = load_stack(args.stack).config
        url, parameter = args.url, ""
        if not url or not os.environ.get(SECRET_ENV):
            outputs, why = pulumi_outputs(args.stack)
            if outputs is None:
                raise OpsError(f"{why}; pass --url and set {SECRET_ENV}")
            if URL_OUTPUT not in outputs:
                raise OpsError(
                    f"stack {args.stack} has no wake function (output {URL_OUTPUT} missing): it needs an aws or "
                    "emulated pool with runners, runner.idleAction: stop and aws.wakeOnJob not false"
                )
            url, parameter = url or outputs[URL_OUTPUT], outputs.get(SECRET_PARAMETER_OUTPUT, "")
        secret = webhook_secret(parameter, url)
    except OpsError as error:
        print(f"wake-test: {error}", file=sys.stderr)
        return 2
    labels = args.labels.split(",") if args.labels else runs_on_labels(config)
    payload = queued_payload(labels, repository_of(config))
    status, delivery, answer = send(url, secret, payload)
    print(f"delivery {delivery}: labels {labels} from {payload['repository']['full_name']} -> {url}")
    print(f"HTTP {status}: {answer}")
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    raise SystemExit(main())
