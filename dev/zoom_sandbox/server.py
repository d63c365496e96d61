"""The HTTP side: a threading HTTP/1.1 server with keep-alive that moves bytes to and from
``SandboxApp``, and ``SandboxServer``, the handle tests and the CLI hold."""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .account import Account
from .app import SandboxApp
from .clock import SandboxClock
from .config import SandboxConfig
from .faults import Faults
from .messages import Request
from .requestlog import RequestLog


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return "ZoomSandbox/1.0"

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without this, Nagle's algorithm meets the
        # client's delayed ACK and every keep-alive response waits ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def _serve(self) -> None:
        url = urlsplit(self.path)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.send_error(411, "Send a Content-Length: the sandbox does not read chunked bodies")
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        response = self.server.app.handle(Request(self.command, url.path, query, self.headers, body))
        if response.delay_s > 0:
            time.sleep(response.delay_s)  # in this thread only: concurrent requests overlap
        try:
            if response.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            payload = response.payload()
            self.send_response(response.status)
            if response.status != 204:
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if payload:
                self.wfile.write(payload)
        except OSError:  # the client gave up first (its timeout is shorter than our delay)
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format, *args) -> None:
        """Silent: the request log (``SandboxServer.log``) is the access log."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address, app: SandboxApp) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    def track(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def close_connections(self) -> None:
        """Wake the threads parked on idle keep-alive connections, so stopping frees them."""
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class SandboxServer:
    """A local Zoom: ``with SandboxServer(config) as sb:`` serves in a background thread.

    The socket is bound on construction (``port=0`` picks a free port), so the URLs are known
    before ``start()``.
    """

    def __init__(self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or SandboxConfig()
        self.clock = SandboxClock(self.config.anchor)
        self._app = SandboxApp(self.config, self.clock)
        self._httpd = _HTTPServer((host, port), self._app)
        self.host = "127.0.0.1" if host in ("", "0.0.0.0") else host
        self.port = self._httpd.server_address[1]
        self._app.root_url = self.root_url
        self._app.oauth.api_url = self.root_url
        self._thread: threading.Thread | None = None

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v2"

    @property
    def oauth_url(self) -> str:
        return f"{self.root_url}/oauth/token"

    @property
    def authorize_url(self) -> str:
        return f"{self.root_url}/oauth/authorize"

    @property
    def log(self) -> RequestLog:
        return self._app.log

    @property
    def faults(self) -> Faults:
        return self._app.faults

    def account(self, account_id: str | None = None) -> Account:
        return self._app.accounts[self.config.account(account_id).account_id]

    def connection_json(self, account_id: str | None = None, **extra) -> str:
        """The value of ``AIRFLOW_CONN_<ID>`` for one account (``extra`` adds connection extras)."""
        return json.dumps(self._app.connection(account_id, **extra))

    def start(self) -> "SandboxServer":
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"zoom-sandbox-{self.port}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.close_connections()
        self._httpd.server_close()

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
