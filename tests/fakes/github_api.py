"""A fake GitHub REST API on 127.0.0.1 for tests: runner registration, listing, deletion, JIT.

    with FakeGithub() as github:
        github.add_scope("/repos/octo/app")
        client_api_url = github.api_url          # http://127.0.0.1:<port>[/api/v3]
        ...
        github.register_runner("/repos/octo/app", "arm64-dev-a-0", token)   # what config.sh does
        assert github.runner_names("/repos/octo/app") == [...]

State is plain attributes, guarded by `github.lock`: `runners` (scope -> {id: runner}),
`runner_groups` (org scope -> [{id, name}]), `tokens` (every token/JIT config minted), `requests`
(every request: method, path, query, body, authorization). `deliver_webhook(url, secret, event, payload)`
plays GitHub's side of a webhook: a signed POST to a receiver (recorded in `deliveries`).

Extending: subclass and add routes in `routes()`, or call `add_route(method, regex, handler)`;
a handler gets (FakeRequest, match) and returns a FakeResponse. Failures are injected with
`fail_next(...)`; `credentials` / `forbidden` control authentication and permissions.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

SCOPE = r"(?P<scope>/repos/[^/]+/[^/]+|/orgs/[^/]+)"
DEFAULT_CREDENTIAL = "ghp_fake_credential_for_tests"
DOCUMENTATION_URL = "https://docs.github.com/rest"


@dataclass
class FakeRequest:
    method: str
    path: str  # without the API prefix and query
    query: dict[str, str]
    body: Any
    authorization: str


@dataclass
class FakeResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # GitHub's error bodies carry a documentation link and the status with the message.
        if self.status >= 400 and isinstance(self.body, dict) and "message" in self.body:
            self.body.setdefault("documentation_url", DOCUMENTATION_URL)
            self.body.setdefault("status", str(self.status))


@dataclass
class InjectedFailure:
    method: str
    path_pattern: str
    response: FakeResponse
    times: int


Handler = Callable[[FakeRequest, "re.Match[str]"], FakeResponse]


class FakeGithub:
    """Threaded fake of the GitHub REST endpoints the project uses."""

    def __init__(
        self,
        api_prefix: str = "",
        credentials: tuple[str, ...] = (DEFAULT_CREDENTIAL,),
        clock: Callable[[], float] = time.time,
    ):
        self.api_prefix = api_prefix.rstrip("/")
        #: Epoch seconds: token expiry is minted and checked against it (tests move it forward).
        self.clock = clock
        self.credentials: set[str] = set(credentials)
        #: Scopes (e.g. "/orgs/octo") where every credential gets 403.
        self.forbidden: set[str] = set()
        #: Answer runner lists as a server without the `name` filter would (all runners, paged).
        self.ignore_name_filter = False
        self.lock = threading.RLock()
        self.runners: dict[str, dict[int, dict[str, Any]]] = {}
        self.runner_groups: dict[str, list[dict[str, Any]]] = {}
        self.tokens: list[dict[str, Any]] = []
        self.requests: list[FakeRequest] = []
        self.failures: list[InjectedFailure] = []
        #: Every request served by a route (not injected failures), with its answer.
        self.exchanges: list[tuple[FakeRequest, FakeResponse]] = []
        self.hangs: list[InjectedFailure] = []
        #: runner id -> list requests left before a busy runner goes idle (None = stays busy).
        self.busy_for: dict[int, int | None] = {}
        #: Webhook deliveries sent with `deliver_webhook` (url, event, delivery id, answer status).
        self.deliveries: list[dict[str, Any]] = []
        self._next_id = 1000
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        for method, pattern, handler in self.routes():
            self.add_route(method, pattern, handler)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> FakeGithub:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._serve(self)

            do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

            def log_message(self, *_args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + self.api_prefix

    # ---------------------------------------------------------------- state helpers
    def add_scope(self, scope: str) -> None:
        with self.lock:
            self.runners.setdefault(scope, {})
            if scope.startswith("/orgs/"):
                self.runner_groups.setdefault(scope, [{"id": 1, "name": "Default"}])

    def add_runner_group(self, org_scope: str, name: str) -> int:
        with self.lock:
            groups = self.runner_groups.setdefault(org_scope, [{"id": 1, "name": "Default"}])
            group_id = max(g["id"] for g in groups) + 1
            groups.append({"id": group_id, "name": name})
            return group_id

    def add_runner(
        self, scope: str, name: str, *, busy: bool = False, labels: tuple[str, ...] = (), version: str = "2.331.0"
    ) -> dict[str, Any]:
        with self.lock:
            self._next_id += 1
            runner = {
                "id": self._next_id,
                "name": name,
                "os": "Linux",
                "status": "online",
                "busy": busy,
                "version": version,
                "runner_group_id": 1,
                "labels": [{"name": label, "type": "custom"} for label in labels],
            }
            self.runners.setdefault(scope, {})[runner["id"]] = runner
            return runner

    def register_runner(self, scope: str, name: str, token: str, labels: tuple[str, ...] = ()) -> dict[str, Any]:
        """What `config.sh --url … --token …` does: a valid, unexpired token for `scope` adds a runner."""
        with self.lock:
            minted = next((t for t in self.tokens if t["token"] == token), None)
            if minted is None or minted["scope"] != scope or minted["kind"] != "registration":
                raise ValueError(f"token not valid for {scope}")
            if minted["expires_epoch"] < self.clock():
                raise ValueError("registration token expired")
            existing = [r for r in self.runners[scope].values() if r["name"] == name]
            for runner in existing:  # config.sh --replace
                del self.runners[scope][runner["id"]]
            return self.add_runner(scope, name, labels=labels)

    def set_status(self, scope: str, name: str, status: str) -> None:
        """A runner's connection as GitHub reports it: "online" or "offline"."""
        with self.lock:
            self._runner_by_name(scope, name)["status"] = status

    def start_jit(self, scope: str, encoded_jit_config: str) -> dict[str, Any]:
        """What `run.sh --jitconfig` does: the JIT runner GitHub listed at generate time comes online."""
        with self.lock:
            minted = next((t for t in self.tokens if t["token"] == encoded_jit_config), None)
            if minted is None or minted["kind"] != "jit" or minted["scope"] != scope:
                raise ValueError(f"not a JIT config of {scope}")
            name = json.loads(base64.b64decode(encoded_jit_config))["runner"]
            try:
                runner = self._runner_by_name(scope, name)
            except KeyError:
                raise ValueError(f"JIT runner {name} no longer exists (used, or removed by GitHub)") from None
            runner["status"] = "online"
            return runner

    def set_busy(self, scope: str, name: str, requests_until_idle: int | None) -> None:
        """Mark a runner busy; it goes idle after that many list requests (None: never)."""
        with self.lock:
            runner = self._runner_by_name(scope, name)
            runner["busy"] = True
            self.busy_for[runner["id"]] = requests_until_idle

    def remove_runner(self, scope: str, name: str) -> None:
        """What GitHub does on its own: drop a runner (offline for 14 days, or ephemeral after its job)."""
        with self.lock:
            del self.runners[scope][self._runner_by_name(scope, name)["id"]]

    def runner_names(self, scope: str, prefix: str = "") -> list[str]:
        with self.lock:
            return sorted(r["name"] for r in self.runners.get(scope, {}).values() if r["name"].startswith(prefix))

    def fail_next(
        self,
        method: str,
        path_pattern: str,
        status: int,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` matching requests with `status` instead of serving them."""
        response = FakeResponse(status, body or {"message": f"injected {status}"}, headers or {})
        with self.lock:
            self.failures.append(InjectedFailure(method, path_pattern, response, times))

    def hang_next(self, method: str, path_pattern: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next `times` matching requests for `seconds` before answering (a client timeout)."""
        with self.lock:
            self.hangs.append(InjectedFailure(method, path_pattern, FakeResponse(0, {"hang": seconds}), times))

    def deliver_webhook(
        self, url: str, secret: str, event: str, payload: Any, *, delivery: str | None = None
    ) -> tuple[int, Any]:
        """POST `payload` to `url` as GitHub delivers a webhook (headers, HMAC-SHA256 signature with
        `secret`); returns the receiver's status and JSON answer. Recorded in `deliveries`."""
        import hashlib
        import hmac
        import urllib.error
        import urllib.request
        import uuid

        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/fake",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "400100",
            "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        }
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            with error:
                status, raw = error.code, error.read()
        with self.lock:
            self.deliveries.append(
                {"url": url, "event": event, "delivery": headers["X-GitHub-Delivery"], "status": status}
            )
        return status, json.loads(raw) if raw else None

    def requests_to(self, method: str, pattern: str) -> list[FakeRequest]:
        with self.lock:
            return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    def _runner_by_name(self, scope: str, name: str) -> dict[str, Any]:
        for runner in self.runners.get(scope, {}).values():
            if runner["name"] == name:
                return runner
        raise KeyError(name)

    # ---------------------------------------------------------------- routing
    def add_route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern), handler))

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            (
                "POST",
                SCOPE + r"/actions/runners/registration-token",
                self._registration_token,
            ),
            ("POST", SCOPE + r"/actions/runners/remove-token", self._remove_token),
            ("POST", SCOPE + r"/actions/runners/generate-jitconfig", self._jitconfig),
            ("GET", SCOPE + r"/actions/runners", self._list_runners),
            ("GET", SCOPE + r"/actions/runners/(?P<id>\d+)", self._get_runner),
            ("DELETE", SCOPE + r"/actions/runners/(?P<id>\d+)", self._delete_runner),
            ("GET", r"(?P<scope>/orgs/[^/]+)/actions/runner-groups", self._list_groups),
        ]

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        request = FakeRequest(
            method=http.command,
            path=parsed.path,
            query=dict(urllib.parse.parse_qsl(parsed.query)),
            body=json.loads(raw) if raw else None,
            authorization=http.headers.get("Authorization", ""),
        )
        response = self._dispatch(request)
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        http.send_response(response.status)
        http.send_header("Content-Type", "application/json")
        http.send_header("Content-Length", str(len(payload)))
        for key, value in response.headers.items():
            http.send_header(key, value)
        http.end_headers()
        http.wfile.write(payload)

    def _dispatch(self, request: FakeRequest) -> FakeResponse:
        self._hang(request)
        with self.lock:
            if not request.path.startswith(self.api_prefix + "/"):
                return FakeResponse(404, {"message": "Not Found"})
            request.path = request.path[len(self.api_prefix) :]
            self.requests.append(request)
            for failure in self.failures:
                if failure.method == request.method and re.fullmatch(failure.path_pattern, request.path):
                    failure.times -= 1
                    if failure.times <= 0:
                        self.failures.remove(failure)
                    return failure.response
            scheme, _, credential = request.authorization.partition(" ")
            if scheme.lower() not in ("bearer", "token") or credential not in self.credentials:
                refused = FakeResponse(401, {"message": "Bad credentials"})
                self.exchanges.append((request, refused))
                return refused
            for method, pattern, handler in self._routes:
                match = pattern.fullmatch(request.path)
                if match and method == request.method:
                    scope = match.groupdict().get("scope")
                    if scope is not None and scope not in self.runners:
                        return FakeResponse(404, {"message": "Not Found"})
                    if scope in self.forbidden:
                        response = FakeResponse(403, {"message": "Resource not accessible by personal access token"})
                    else:
                        response = handler(request, match)
                    self.exchanges.append((request, response))
                    return response
            return FakeResponse(404, {"message": "Not Found"})

    def _hang(self, request: FakeRequest) -> None:
        with self.lock:
            path = request.path[len(self.api_prefix) :]
            hang = next(
                (h for h in self.hangs if h.method == request.method and re.fullmatch(h.path_pattern, path)), None
            )
            if hang is not None:
                hang.times -= 1
                if hang.times <= 0:
                    self.hangs.remove(hang)
        if hang is not None:
            time.sleep(float(hang.response.body["hang"]))

    # ---------------------------------------------------------------- handlers
    def _mint(self, scope: str, kind: str) -> dict[str, Any]:
        expires = self.clock() + 3600
        minted = {
            "scope": scope,
            "kind": kind,
            "token": "AAFAKE" + secrets.token_hex(12).upper(),
            "expires_epoch": expires,
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(expires)),
        }
        self.tokens.append(minted)
        return minted

    def _registration_token(self, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
        minted = self._mint(match["scope"], "registration")
        return FakeResponse(201, {"token": minted["token"], "expires_at": minted["expires_at"]})

    def _remove_token(self, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
        minted = self._mint(match["scope"], "remove")
        return FakeResponse(201, {"token": minted["token"], "expires_at": minted["expires_at"]})

    def _jitconfig(self, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
        scope = match["scope"]
        body = request.body or {}
        missing = [k for k in ("name", "labels", "runner_group_id") if k not in body]
        if missing:
            return FakeResponse(422, {"message": f"Invalid input: missing {', '.join(missing)}"})
        group_ids = {g["id"] for g in self.runner_groups.get(scope, [{"id": 1}])}
        if body["runner_group_id"] not in group_ids:
            return FakeResponse(404, {"message": "Not Found"})
        if any(r["name"] == body["name"] for r in self.runners[scope].values()):
            return FakeResponse(
                409,
                {"message": "Already exists - A runner with the same name already exists."},
            )
        runner = self.add_runner(scope, body["name"], labels=tuple(body["labels"]))
        runner["status"] = "offline"
        runner["runner_group_id"] = body["runner_group_id"]
        minted = self._mint(scope, "jit")
        encoded = base64.b64encode(json.dumps({"runner": runner["name"], "secret": minted["token"]}).encode()).decode()
        minted["token"] = encoded
        return FakeResponse(201, {"runner": dict(runner), "encoded_jit_config": encoded})

    def _tick_busy(self) -> None:
        for runner_id, left in list(self.busy_for.items()):
            if left is None:
                continue
            if left <= 0:
                for runners in self.runners.values():
                    if runner_id in runners:
                        runners[runner_id]["busy"] = False
                del self.busy_for[runner_id]
            else:
                self.busy_for[runner_id] = left - 1

    def _list_runners(self, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
        self._tick_busy()
        per_page = min(int(request.query.get("per_page", 30)), 100)
        page = int(request.query.get("page", 1))
        everything = sorted(self.runners[match["scope"]].values(), key=lambda r: r["id"])
        if "name" in request.query and not self.ignore_name_filter:
            everything = [r for r in everything if r["name"] == request.query["name"]]
        chunk = everything[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(everything):
            next_url = f"{self.api_url}{request.path}?per_page={per_page}&page={page + 1}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        return FakeResponse(
            200,
            {"total_count": len(everything), "runners": [dict(r) for r in chunk]},
            headers,
        )

    def _get_runner(self, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
        runner = self.runners[match["scope"]].get(int(match["id"]))
        return FakeResponse(200, dict(runner)) if runner else FakeResponse(404, {"message": "Not Found"})

    def _delete_runner(self, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
        runners = self.runners[match["scope"]]
        runner = runners.get(int(match["id"]))
        if runner is None:
            return FakeResponse(404, {"message": "Not Found"})
        if runner["busy"]:
            return FakeResponse(
                422,
                {"message": f'Bad request - Runner "{runner["name"]}" is still running a job"'},
            )
        del runners[runner["id"]]
        return FakeResponse(204)

    def _list_groups(self, request: FakeRequest, match: re.Match[str]) -> FakeResponse:
        per_page = min(int(request.query.get("per_page", 30)), 100)
        page = int(request.query.get("page", 1))
        groups = [self._group_json(match["scope"], g) for g in self.runner_groups.get(match["scope"], [])]
        chunk = groups[(page - 1) * per_page : page * per_page]
        return FakeResponse(200, {"total_count": len(groups), "runner_groups": chunk})

    def _group_json(self, org_scope: str, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": group["id"],
            "name": group["name"],
            "visibility": "all",
            "default": group["id"] == 1,
            "runners_url": f"{self.api_url}{org_scope}/actions/runner-groups/{group['id']}/runners",
            "inherited": False,
            "allows_public_repositories": False,
        }
