"""The only thing a guest can reach: an HTTP server on 127.0.0.1 that plays the cloud's
token hand-off and serves the runner tarball, recording every request.

The guest sees it as http://10.0.2.100/ through QEMU `guestfwd` (see vm.py); the token is
read-once like an SSM parameter that the instance deletes: after the first successful
fetch it answers 410, so a second registration attempt would fail loudly.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

GUEST_ADDRESS = "10.0.2.100"
TOKEN_PATH = "/handoff/token"
RUNNER_PREFIX = "/runner"
MIRROR_PREFIX = "/debian"
TokenMode = Literal["ok", "missing", "expired"]
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+~%-]*")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    status: int
    sent_bytes: int


class HandoffServer:
    """Context manager: `with HandoffServer(token, tarball) as server: server.port`.

    `mirror`: a directory of files (the flat apt repository of mirror.py) served under /debian/.
    """

    def __init__(
        self, token: str, tarball: Path | None, token_mode: TokenMode = "ok", mirror: Path | None = None
    ) -> None:
        self.token = token
        self.tarball = tarball
        self.token_mode = token_mode
        self.mirror = mirror
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._token_served = False
        self.served_tokens: list[str] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def token_url(self) -> str:
        return f"http://{GUEST_ADDRESS}{TOKEN_PATH}"

    @property
    def download_base_url(self) -> str:
        return f"http://{GUEST_ADDRESS}{RUNNER_PREFIX}"

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def publish(self, token: str) -> None:
        """A new token in the hand-off (what the wake function writes before it starts an instance):
        served once, then 410 again."""
        with self._lock:
            self.token = token
            self._token_served = False

    def token_fetches(self) -> list[Request]:
        return [r for r in self.requests if r.path.split("?")[0] == TOKEN_PATH]

    def tarball_fetches(self) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(RUNNER_PREFIX + "/")]

    def mirror_fetches(self) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(MIRROR_PREFIX + "/")]

    def __enter__(self) -> HandoffServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    def _answer(self, method: str, path: str) -> tuple[int, bytes, str]:
        route = path.split("?")[0]
        if route == TOKEN_PATH:
            with self._lock:
                if self.token_mode == "missing":
                    return 404, b"no such parameter\n", "text/plain"
                if self.token_mode == "expired" or self._token_served:
                    return 410, b"token consumed or expired\n", "text/plain"
                self._token_served = True
                token = self.token
                self.served_tokens.append(token)
            return 200, token.encode() + b"\n", "text/plain"
        tarball = self.tarball
        if tarball is not None and route.startswith(RUNNER_PREFIX + "/") and route.endswith("/" + tarball.name):
            return 200, tarball.read_bytes(), "application/gzip"
        if self.mirror is not None and route.startswith(MIRROR_PREFIX + "/"):
            # One flat directory: a bare file name, nothing that could climb out of it.
            name = unquote(route.removeprefix(MIRROR_PREFIX + "/")).removeprefix("./")
            path = self.mirror / name
            if _FILE_NAME.fullmatch(name) and path.is_file():
                return 200, path.read_bytes(), "application/octet-stream"
            return 404, b"not in the mirror\n", "text/plain"
        if route == "/ping":
            return 200, b"pong\n", "text/plain"
        return 404, b"not found\n", "text/plain"

    def _record(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:
                self._serve(send_body=True)

            def do_HEAD(self) -> None:
                self._serve(send_body=False)

            def _serve(self, send_body: bool) -> None:
                status, body, content_type = server._answer(self.command, self.path)
                # Recorded before answering: a client that has its answer finds the request listed.
                server._record(Request(self.command, self.path, status, len(body) if send_body else 0))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if send_body:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Silent: the token must never reach a log, not even the harness's."""

        return Handler
