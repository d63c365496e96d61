"""Local receivers for notifications: an HTTP webhook endpoint and an SMTP server on 127.0.0.1.

Both run in a thread for one test and hand what they received to a queue, so a test waits on
the queue with a timeout instead of sleeping. The webhook can be told to answer 500, or to hang
until the test ends; the SMTP server speaks just enough of RFC 5321 for smtplib (no TLS, no
AUTH), since Python 3.11's ``smtpd`` is deprecated. Import the fixtures into a suite's conftest.
"""
from __future__ import annotations

import json
import queue
import socketserver
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

WAIT_S = 10


@dataclass
class Webhook:
    """What the webhook receiver got: the path and the JSON body of each POST."""

    url: str
    answer: int = 200
    hang: bool = False
    received: queue.Queue = field(default_factory=queue.Queue)
    release: threading.Event = field(default_factory=threading.Event)

    def next(self, timeout: float = WAIT_S) -> dict:
        return self.received.get(timeout=timeout)

    def empty(self) -> bool:
        return self.received.empty()


@dataclass
class Mailbox:
    """What the SMTP receiver got: sender, recipients and the parsed message of each mail."""

    host: str
    port: int
    received: queue.Queue = field(default_factory=queue.Queue)

    def next(self, timeout: float = WAIT_S) -> tuple[str, list[str], EmailMessage]:
        return self.received.get(timeout=timeout)

    def empty(self) -> bool:
        return self.received.empty()


@pytest.fixture
def webhook():
    """A webhook endpoint; set ``answer`` (e.g. 500) or ``hang`` before the request arrives."""
    hook: Webhook

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if hook.hang:
                hook.release.wait(WAIT_S * 3)
                return
            hook.received.put({"path": self.path, "json": json.loads(body or b"null"),
                               "content_type": self.headers.get("Content-Type")})
            self.send_response(hook.answer)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    hook = Webhook(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    hook.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def mailbox():
    """An SMTP server taking every mail without TLS or authentication."""
    box: Mailbox

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")

        def handle(self):
            self.reply("220 localhost zoom-sam test SMTP")
            sender, recipients = "", []
            while line := self.rfile.readline():
                verb = line.decode("ascii", "replace").strip()
                upper = verb.upper()
                if upper.startswith(("EHLO", "HELO")):
                    self.reply("250 localhost")
                elif upper.startswith("MAIL FROM:"):
                    sender, recipients = verb[10:].strip().strip("<>"), []
                    self.reply("250 OK")
                elif upper.startswith("RCPT TO:"):
                    recipients.append(verb[8:].strip().strip("<>"))
                    self.reply("250 OK")
                elif upper == "DATA":
                    self.reply("354 end with <CRLF>.<CRLF>")
                    data = bytearray()
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    box.received.put((sender, recipients, message_from_bytes(bytes(data), policy=policy.default)))
                    self.reply("250 OK queued")
                elif upper == "QUIT":
                    self.reply("221 bye")
                    return
                elif upper in ("RSET", "NOOP"):
                    self.reply("250 OK")
                else:
                    self.reply("502 command not implemented")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box = Mailbox("127.0.0.1", server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()
