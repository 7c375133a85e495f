"""A fake GitHub REST API on 127.0.0.1 for tests: runner registration, listing, deletion, JIT.

    with FakeGithub() as github:
        github.add_scope("/repos/octo/app")
        client_api_url = github.api_url          # http://127.0.0.1:<port>[/api/v3]
        ...
        github.register_runner("/repos/octo/app", "arm64-dev-a-0", token)   # what config.sh does
        assert github.runner_names("/repos/octo/app") == [...]

State is plain attributes, guarded by `github.lock`: `runners` (scope -> {id: runner}),
`runner_groups` (org scope -> [{id, name}]), `tokens` (every token/JIT config minted), `requests`
(every request: method, path, query, body, authorization).

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


@dataclass
class InjectedFailure:
    method: str
    path_pattern: str
    response: FakeResponse
    times: int


Handler = Callable[[FakeRequest, "re.Match[str]"], FakeResponse]


class FakeGithub:
    """Threaded fake of the GitHub REST endpoints the project uses."""

    def __init__(self, api_prefix: str = "", credentials: tuple[str, ...] = (DEFAULT_CREDENTIAL,)):
        self.api_prefix = api_prefix.rstrip("/")
        self.credentials: set[str] = set(credentials)
        #: Scopes (e.g. "/orgs/octo") where every credential gets 403.
        self.forbidden: set[str] = set()
        self.lock = threading.RLock()
        self.runners: dict[str, dict[int, dict[str, Any]]] = {}
        self.runner_groups: dict[str, list[dict[str, Any]]] = {}
        self.tokens: list[dict[str, Any]] = []
        self.requests: list[FakeRequest] = []
        self.failures: list[InjectedFailure] = []
        #: runner id -> list requests left before a busy runner goes idle (None = stays busy).
        self.busy_for: dict[int, int | None] = {}
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
            if minted["expires_epoch"] < time.time():
                raise ValueError("registration token expired")
            existing = [r for r in self.runners[scope].values() if r["name"] == name]
            for runner in existing:  # config.sh --replace
                del self.runners[scope][runner["id"]]
            return self.add_runner(scope, name, labels=labels)

    def set_busy(self, scope: str, name: str, requests_until_idle: int | None) -> None:
        """Mark a runner busy; it goes idle after that many list requests (None: never)."""
        with self.lock:
            runner = self._runner_by_name(scope, name)
            runner["busy"] = True
            self.busy_for[runner["id"]] = requests_until_idle

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
                return FakeResponse(401, {"message": "Bad credentials"})
            for method, pattern, handler in self._routes:
                match = pattern.fullmatch(request.path)
                if match and method == request.method:
                    scope = match.groupdict().get("scope")
                    if scope is not None and scope not in self.runners:
                        return FakeResponse(404, {"message": "Not Found"})
                    if scope in self.forbidden:
                        return FakeResponse(
                            403,
                            {"message": "Resource not accessible by personal access token"},
                        )
                    return handler(request, match)
            return FakeResponse(404, {"message": "Not Found"})

    # ---------------------------------------------------------------- handlers
    def _mint(self, scope: str, kind: str) -> dict[str, Any]:
        expires = time.time() + 3600
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
        if "name" in request.query:
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
        groups = self.runner_groups.get(match["scope"], [])
        chunk = groups[(page - 1) * per_page : page * per_page]
        return FakeResponse(200, {"total_count": len(groups), "runner_groups": chunk})
