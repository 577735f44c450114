"""Loopback HTTP servers whose port is known before they start.

The app reads its settings once, so a fake's address goes into the environment when the test
session starts, while the fake itself starts only when a test asks for it. The port is bound, not
listened on, until then: it cannot be taken by anyone else, and a connection made too early is
refused rather than answered.
"""

from __future__ import annotations

import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    """A loopback port nobody listens on now (for a server started by someone else)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class LoopbackServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler], name: str) -> None:
        self.name = name
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler, bind_and_activate=False)
        self.server.daemon_threads = True
        self.server.server_bind()
        self.started = False

    @property
    def port(self) -> int:
        return self.server.server_port

    def start(self, tls: ssl.SSLContext | None = None) -> None:
        """Listen and serve (over TLS when given a server context)."""
        if self.started:
            return
        self.server.server_activate()
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, name=self.name, daemon=True).start()
        self.started = True

    def stop(self) -> None:
        if self.started:  # shutdown() waits for serve_forever, which never ran otherwise
            self.server.shutdown()
            self.started = False
        self.server.server_close()
