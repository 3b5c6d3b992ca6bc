"""Real receivers for alert notifications: an HTTP server and an SMTP server (aiosmtpd),
each on a free local port, recording what they were sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from crisp.bench.servers import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HTTPReceiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # Statuses to answer in turn before answering 200 (e.g. [500] fails once).
    failures: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[Any]:
        with self.lock:
            return [r.json() for r in self.requests]


@contextmanager
def http_receiver() -> Iterator[HTTPReceiver]:
    port = free_port()
    receiver = HTTPReceiver(f"http://127.0.0.1:{port}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with receiver.lock:
                status = receiver.failures.pop(0) if receiver.failures else 200
                if status == 200:
                    receiver.requests.append(Received(self.path, dict(self.headers), body))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_PUT = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _MailHandler:
    def __init__(self) -> None:
        self.messages: list[Mail] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def _check_password(login: str, password: str) -> Any:
    from aiosmtpd.smtp import AuthResult

    return AuthResult(success=(login, password) == (SMTP_USER, SMTP_PASSWORD))


SMTP_USER, SMTP_PASSWORD = "alerts", "s3cret"


@contextmanager
def smtp_receiver(require_login: bool = False) -> Iterator[tuple[int, list[Mail]]]:
    """An SMTP server; with ``require_login`` it refuses mail before AUTH as SMTP_USER."""
    handler = _MailHandler()
    port = free_port()
    options: dict[str, Any] = {}
    if require_login:

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                          auth_data: Any) -> Any:  # fmt: skip
            return _check_password(auth_data.login.decode(), auth_data.password.decode())

        # Plain-text AUTH without TLS: a local test server only.
        options = {"authenticator": authenticator, "auth_required": True,
                   "auth_require_tls": False}  # fmt: skip
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port, handler.messages
    finally:
        controller.stop()
