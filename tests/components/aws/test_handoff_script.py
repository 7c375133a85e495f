"""cloud-init/handoff/aws-ssm.sh against a fake IMDSv2 and a fake Parameter Store on 127.0.0.1.

The fake SSM endpoint checks every request's SigV4 signature with an implementation written here from
AWS's published algorithm (not curl's), with the temporary keys the fake IMDS handed out, so a request
curl signed wrongly, or without the session token, is refused like AWS would refuse it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "cloud-init" / "handoff" / "aws-ssm.sh"
REGION = "eu-west-1"
PARAMETER = "/arm64-runners/dev/arm64-dev-graviton-0/0123456789ab/token"
TOKEN = "AABBCCDDEEFFGGHHIIJJKKLLMMNNOO"
ROLE = "arm64-dev-graviton-0-role"
ACCESS_KEY = "ASIAMOCKACCESSKEY001"
SECRET_KEY = "mockSecretKey/With+Chars=0123456789abcd"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEMockSessionToken+/="
IMDS_SESSION = "AQAEAMockImdsSessionToken=="


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def expected_signature(
    method: str,
    path: str,
    headers: dict[str, str],
    signed: list[str],
    body: bytes,
    amz_date: str,
    scope: str,
    secret_key: str,
) -> str:
    """AWS Signature Version 4, from the AWS General Reference (canonical request -> string to sign)."""
    canonical_headers = "".join(f"{h}:{' '.join(headers[h].strip().split())}\n" for h in signed)
    canonical = "\n".join([method, path, "", canonical_headers, ";".join(signed), hashlib.sha256(body).hexdigest()])
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    date, region, service, terminal = scope.split("/")
    key = _hmac(("AWS4" + secret_key).encode(), date)
    for part in (region, service, terminal):
        key = _hmac(key, part)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class FakeAws:
    """State of the fake endpoints: the parameter store and what was asked of them."""

    parameters: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    signed_headers: list[list[str]] = field(default_factory=list)
    imds_without_session: int = 0
    #: The secret the endpoint verifies signatures with (AWS's copy of the role's key).
    verify_key: str = SECRET_KEY
    #: A parameter that appears after this many GetParameter calls (name -> (calls, value)).
    published_late: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: Answer DeleteParameter with AccessDenied (a role without the grant).
    refuse_delete: bool = False


def _imds_handler(state: FakeAws) -> type[BaseHTTPRequestHandler]:
    class Imds(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, text: str) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_PUT(self) -> None:
            if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                self._send(200, IMDS_SESSION)
            else:
                self._send(400, "")

        def do_GET(self) -> None:
            # IMDSv2 only: without a session token IMDS answers 401, as with http_tokens=required.
            if self.headers.get("X-aws-ec2-metadata-token") != IMDS_SESSION:
                state.imds_without_session += 1
                self._send(401, "")
            elif self.path == "/latest/meta-data/iam/security-credentials/":
                self._send(200, ROLE)
            elif self.path == f"/latest/meta-data/iam/security-credentials/{ROLE}":
                self._send(
                    200,
                    json.dumps(
                        {
                            "Code": "Success",
                            "Type": "AWS-HMAC",
                            "AccessKeyId": ACCESS_KEY,
                            "SecretAccessKey": SECRET_KEY,
                            "Token": SESSION_TOKEN,
                            "Expiration": "2026-11-27T12:00:00Z",
                        }
                    ),
                )
            else:
                self._send(404, "")

    return Imds


def _ssm_handler(state: FakeAws) -> type[BaseHTTPRequestHandler]:
    class Ssm(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, document: dict) -> None:
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authentic(self, body: bytes) -> bool:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("AWS4-HMAC-SHA256 "):
                return False
            fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 ") :].split(","))
            access_key, scope = fields["Credential"].split("/", 1)
            signed = fields["SignedHeaders"].split(";")
            state.signed_headers.append(signed)
            headers = {k.lower(): v for k, v in self.headers.items()}
            if access_key != ACCESS_KEY or not scope.endswith(f"/{REGION}/ssm/aws4_request"):
                return False
            # Temporary credentials: the session token must be sent, and signed.
            if headers.get("x-amz-security-token") != SESSION_TOKEN or "x-amz-security-token" not in signed:
                return False
            if "host" not in signed or "x-amz-date" not in signed or "x-amz-target" not in signed:
                return False
            wanted = expected_signature(
                self.command, self.path, headers, signed, body, headers["x-amz-date"], scope, state.verify_key
            )
            return hmac.compare_digest(wanted, fields["Signature"])

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            target = self.headers.get("X-Amz-Target", "")
            if not self._authentic(body):
                state.refused.append(target)
                self._send(403, {"__type": "InvalidSignatureException", "message": "signature mismatch"})
                return
            request = json.loads(body)
            state.calls.append((target, request))
            name = request.get("Name")
            if target == "AmazonSSM.GetParameter":
                reads = sum(1 for t, _ in state.calls if t == target)
                if name in state.published_late and reads > state.published_late[name][0]:
                    state.parameters[name] = state.published_late.pop(name)[1]
                if name not in state.parameters:
                    self._send(400, {"__type": "com.amazonaws.ssm#ParameterNotFound"})
                    return
                self._send(
                    200,
                    {
                        "Parameter": {
                            "Name": name,
                            "Type": "SecureString",
                            "Value": state.parameters[name],
                            "Version": 1,
                            "ARN": f"arn:aws:ssm:{REGION}:123456789012:parameter{name}",
                        }
                    },
                )
            elif target == "AmazonSSM.DeleteParameter":
                if name not in state.parameters:
                    self._send(400, {"__type": "com.amazonaws.ssm#ParameterNotFound"})
                    return
                if state.refuse_delete:
                    self._send(400, {"__type": "AccessDeniedException"})
                    return
                del state.parameters[name]
                self._send(200, {})
            else:
                self._send(400, {"__type": "InvalidAction"})

    return Ssm


@pytest.fixture()
def fake_aws() -> Iterator[tuple[FakeAws, str, str]]:
    state = FakeAws()
    servers = [
        ThreadingHTTPServer(("127.0.0.1", 0), _imds_handler(state)),
        ThreadingHTTPServer(("127.0.0.1", 0), _ssm_handler(state)),
    ]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    urls = [f"http://127.0.0.1:{s.server_address[1]}" for s in servers]
    try:
        yield state, urls[0], urls[1]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def run_handoff(tmp_path: Path, imds: str, ssm: str, wait: int = 0) -> subprocess.CompletedProcess[str]:
    etc = tmp_path / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "handoff.env").write_text(
        f"SSM_PARAMETER_NAME='{PARAMETER}'\nAWS_REGION='{REGION}'\n"
        f"HANDOFF_WAIT_SECONDS='{wait}'\nHANDOFF_RETRY_SECONDS='0'\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "ARM64_RUNNER_ETC": str(etc),
        "ARM64_RUNNER_IMDS_URL": imds,
        "ARM64_RUNNER_SSM_URL": ssm,
    }
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


def test_reads_the_token_once_and_deletes_it(tmp_path: Path, fake_aws: tuple[FakeAws, str, str]) -> None:
    state, imds, ssm = fake_aws
    state.parameters[PARAMETER] = TOKEN
    result = run_handoff(tmp_path, imds, ssm)
    assert result.returncode == 0, result.stderr
    assert result.stdout == TOKEN + "\n"
    assert PARAMETER not in state.parameters
    assert [target for target, _ in state.calls] == ["AmazonSSM.GetParameter", "AmazonSSM.DeleteParameter"]
    assert state.calls[0][1] == {"Name": PARAMETER, "WithDecryption": True}
    assert state.calls[1][1] == {"Name": PARAMETER}
    assert state.refused == [] and state.imds_without_session == 0
    assert TOKEN not in result.stderr


def test_second_read_finds_nothing(tmp_path: Path, fake_aws: tuple[FakeAws, str, str]) -> None:
    state, imds, ssm = fake_aws
    state.parameters[PARAMETER] = TOKEN
    assert run_handoff(tmp_path, imds, ssm).returncode == 0
    again = run_handoff(tmp_path, imds, ssm)
    assert again.returncode == 3
    assert again.stdout == ""


def test_a_token_that_cannot_be_deleted_is_not_used(tmp_path: Path, fake_aws: tuple[FakeAws, str, str]) -> None:
    """Read-once or nothing: when the delete is refused the token is not printed (it stays unused)."""
    state, imds, ssm = fake_aws
    state.parameters[PARAMETER] = TOKEN
    state.refuse_delete = True
    result = run_handoff(tmp_path, imds, ssm)
    assert result.returncode == 1
    assert result.stdout == ""
    assert [t for t, _ in state.calls].count("AmazonSSM.DeleteParameter") == 3


def test_missing_parameter_exits_3(tmp_path: Path, fake_aws: tuple[FakeAws, str, str]) -> None:
    _state, imds, ssm = fake_aws
    result = run_handoff(tmp_path, imds, ssm)
    assert result.returncode == 3
    assert result.stdout == ""
    assert "not published yet" in result.stderr


def test_waits_for_a_parameter_published_late(tmp_path: Path, fake_aws: tuple[FakeAws, str, str]) -> None:
    state, imds, ssm = fake_aws
    state.published_late[PARAMETER] = (2, TOKEN)
    result = run_handoff(tmp_path, imds, ssm, wait=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout == TOKEN + "\n"
    assert [t for t, _ in state.calls].count("AmazonSSM.GetParameter") == 3


def test_requests_carry_a_valid_signature_over_the_session_token(
    tmp_path: Path, fake_aws: tuple[FakeAws, str, str]
) -> None:
    state, imds, ssm = fake_aws
    state.parameters[PARAMETER] = TOKEN
    run_handoff(tmp_path, imds, ssm)
    assert state.signed_headers and all("x-amz-security-token" in s for s in state.signed_headers)
    assert state.refused == []


def test_a_wrong_signature_is_refused_and_nothing_printed(tmp_path: Path, fake_aws: tuple[FakeAws, str, str]) -> None:
    """The failing variant of the signature test: a request signed with another key is refused."""
    state, imds, ssm = fake_aws
    state.parameters[PARAMETER] = TOKEN
    state.verify_key = "not-the-key-imds-handed-out"
    result = run_handoff(tmp_path, imds, ssm)
    assert result.returncode == 1
    assert result.stdout == ""
    assert state.refused and state.parameters[PARAMETER] == TOKEN


def test_no_credential_or_token_in_argv(tmp_path: Path, fake_aws: tuple[FakeAws, str, str]) -> None:
    """Every curl the script starts is recorded by a shim: keys, session tokens and the registration
    token travel through `-K <(...)` pipes and variables, never as command-line arguments."""
    state, imds, ssm = fake_aws
    state.parameters[PARAMETER] = TOKEN
    shims = tmp_path / "bin"
    shims.mkdir()
    argv_log = tmp_path / "argv.log"
    real_curl = subprocess.run(["bash", "-c", "command -v curl"], capture_output=True, text=True).stdout.strip()
    shim = shims / "curl"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{argv_log}"\nexec {real_curl} "$@"\n')
    shim.chmod(0o755)
    old_path = os.environ["PATH"]
    os.environ["PATH"] = f"{shims}:{old_path}"
    try:
        result = run_handoff(tmp_path, imds, ssm)
    finally:
        os.environ["PATH"] = old_path
    assert result.returncode == 0, result.stderr
    recorded = argv_log.read_text()
    assert recorded.count("\n") >= 5  # the shim did see the IMDS and SSM calls
    for secret in (SECRET_KEY, SESSION_TOKEN, IMDS_SESSION, TOKEN, ACCESS_KEY):
        assert secret not in recorded


# ---- against moto's Parameter Store, which keeps every version like AWS does ------------------------


@pytest.fixture()
def moto_ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's server on 127.0.0.1, reached by both the component's provider (boto3) and the script (curl)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    for key, value in {
        "AWS_ENDPOINT_URL_SSM": url,
        "AWS_ACCESS_KEY_ID": "AKIAMOTODEPLOYER0001",
        "AWS_SECRET_ACCESS_KEY": "moto-deployer-secret",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    try:
        yield url
    finally:
        server.stop()


def _handoff_props() -> dict[str, object]:
    return {
        "region": REGION,
        "parameter_name": PARAMETER,
        "value": TOKEN,
        "tier": "Standard",
        "description": "test",
        "tags": {"arm64-runners:stack": "dev"},
    }


def _token_anywhere(ssm: object) -> list[str]:
    """Every Parameter Store read API that could return the token, and what each returned."""
    import botocore.exceptions

    seen: list[str] = []
    calls = {
        "GetParameter": lambda: [ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]],  # type: ignore[attr-defined]
        "GetParameters": lambda: ssm.get_parameters(Names=[PARAMETER], WithDecryption=True)["Parameters"],  # type: ignore[attr-defined]
        "GetParametersByPath": lambda: ssm.get_parameters_by_path(  # type: ignore[attr-defined]
            Path="/arm64-runners/", Recursive=True, WithDecryption=True
        )["Parameters"],
        "GetParameterHistory": lambda: ssm.get_parameter_history(Name=PARAMETER, WithDecryption=True)["Parameters"],  # type: ignore[attr-defined]
    }
    for api, call in calls.items():
        try:
            found = call()
        except botocore.exceptions.ClientError as err:
            assert err.response["Error"]["Code"] == "ParameterNotFound", err
            continue
        seen += [api for item in found if item.get("Value") == TOKEN]
    return seen


def test_after_the_handoff_no_parameter_store_api_returns_the_token(
    tmp_path: Path, fake_aws: tuple[FakeAws, str, str], moto_ssm: str
) -> None:
    import boto3

    from components.aws.handoff import SsmHandoffProvider

    _state, imds, _fake_ssm = fake_aws
    provider = SsmHandoffProvider()
    provider.create(_handoff_props())
    ssm = boto3.client("ssm", region_name=REGION)
    assert set(_token_anywhere(ssm)) == {"GetParameter", "GetParameters", "GetParametersByPath", "GetParameterHistory"}

    result = run_handoff(tmp_path, imds, moto_ssm)
    assert result.returncode == 0, result.stderr
    assert result.stdout == TOKEN + "\n"
    assert _token_anywhere(ssm) == []
    assert ssm.describe_parameters()["Parameters"] == []
    provider.delete(PARAMETER, _handoff_props())  # destroy after the instance deleted it: nothing to do


def test_an_overwrite_instead_of_a_delete_would_leave_the_token_in_the_history(moto_ssm: str) -> None:
    """The weakened variant: the previous hand-off overwrote the token; moto, like AWS, keeps it."""
    import boto3

    from components.aws.handoff import SsmHandoffProvider

    SsmHandoffProvider().create(_handoff_props())
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=PARAMETER, Value="arm64-runners:consumed", Type="SecureString", Overwrite=True)
    assert _token_anywhere(ssm) == ["GetParameterHistory"]
