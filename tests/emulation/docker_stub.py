"""A stand-in Docker daemon on a unix socket: just enough Engine API for `docker version` and a
legacy `docker build`, recording every request (method, path with query).

No Docker engine runs on the proof machine. This lets the arm64 docker CLI inside the tree talk,
through the bind-mounted socket, to "the host's daemon" and shows what it asks for: the server
answers as an x86_64 (amd64) engine, like the emulated host's, and the recorded build request
shows the platform the CLI requested.
"""

from __future__ import annotations

import json
import os
import socketserver
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

API_VERSION = "1.41"


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class DockerStub:
    """Context manager: `with DockerStub(path) as stub: ...; stub.requests`."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = _UnixHTTPServer(str(socket_path), self._handler())
        os.chmod(socket_path, 0o666)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> DockerStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.socket_path.unlink(missing_ok=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def address_string(self) -> str:
                return "unix"

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Api-Version", API_VERSION)
                self.send_header("Ostype", "linux")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _route(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                elif self.headers.get("Transfer-Encoding") == "chunked":
                    self._drain_chunked()
                with stub._lock:
                    stub.requests.append((self.command, self.path))
                path = self.path.split("?")[0]
                if path.endswith("/_ping"):
                    self._send(200, b"OK", "text/plain")
                elif path.endswith("/version"):
                    version = {
                        "Version": "stub",
                        "ApiVersion": API_VERSION,
                        "MinAPIVersion": "1.12",
                        "Os": "linux",
                        "Arch": "amd64",
                        "KernelVersion": os.uname().release,
                    }
                    self._send(200, json.dumps(version).encode())
                elif path.endswith("/build"):
                    image = "sha256:" + "0" * 64
                    lines = [{"stream": "Step 1/2 : FROM scratch\n"}, {"aux": {"ID": image}}, {"stream": f"{image}\n"}]
                    self._send(200, b"".join(json.dumps(line).encode() + b"\r\n" for line in lines))
                else:
                    self._send(404, json.dumps({"message": f"stub: no route {path}"}).encode())

            def _drain_chunked(self) -> None:
                while True:
                    size = int(self.rfile.readline().strip() or b"0", 16)
                    self.rfile.read(size + 2)
                    if size == 0:
                        return

            do_GET = do_HEAD = do_POST = _route

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        return Handler
