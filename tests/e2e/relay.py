"""stdio <-> TCP relay that QEMU's `guestfwd=...-cmd:` runs once per guest connection.

QEMU hands the guest's connection to this process as stdin/stdout; the relay forwards it
to the harness server on 127.0.0.1 and nowhere else (the address is checked), so the only
thing the restricted guest network reaches is the loopback server the test started.
"""

from __future__ import annotations

import ipaddress
import os
import selectors
import socket
import sys


def relay(port: int, host: str = "127.0.0.1", stdin: int = 0, stdout: int = 1) -> None:
    if not ipaddress.ip_address(host).is_loopback:
        raise SystemExit(f"relay: refusing non-loopback target {host}")
    upstream = socket.create_connection((host, port), timeout=30)
    upstream.settimeout(None)
    selector = selectors.DefaultSelector()
    selector.register(stdin, selectors.EVENT_READ, "guest")
    selector.register(upstream, selectors.EVENT_READ, "server")
    open_sides = {"guest", "server"}
    while open_sides:
        for key, _ in selector.select():
            if key.data == "guest":
                data = os.read(stdin, 65536)
                if data:
                    upstream.sendall(data)
                    continue
                selector.unregister(stdin)
                open_sides.discard("guest")
                upstream.shutdown(socket.SHUT_WR)
            else:
                data = upstream.recv(65536)
                if data:
                    _write_all(stdout, data)
                    continue
                selector.unregister(upstream)
                open_sides.discard("server")
                if "guest" in open_sides:
                    # The server answered and closed: the guest needs EOF too.
                    selector.unregister(stdin)
                    open_sides.discard("guest")
    upstream.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


if __name__ == "__main__":
    relay(int(sys.argv[2]), host=sys.argv[1])
