"""A local webhook receiver on a thread: records every POST (body, headers,
arrival time) and answers as the test says — 2xx, 500 for a while, or not
at all for a while (a hang)."""

from __future__ import annotations

import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pipeline.webhook_signing import HEADER, verify


@dataclass
class Received:
    body: bytes
    signature: str
    at: float  # time.monotonic()
    wall: float = 0.0  # time.time(), to compare with the event's own times

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """`fail_next` answers 500 that many times; `hang_next` answers nothing
    for `hang_seconds` that many times; `fail_until` answers 500 until then."""

    server: ThreadingHTTPServer | None = None
    received: list[Received] = field(default_factory=list)
    fail_next: int = 0
    fail_until: float = 0.0
    hang_next: int = 0
    hang_seconds: float = 2.0
    hang_on: set[int] = field(default_factory=set)  # request numbers (1, 2, …) that hang
    redirect_next: int = 0  # answer 307 to /elsewhere that many times
    started: int = 0  # requests begun
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def answer(self) -> tuple[int, float]:
        """The status to answer and how long to wait first."""
        with self.lock:
            self.started += 1
            if self.started in self.hang_on:
                return 200, self.hang_seconds
            if self.redirect_next:
                self.redirect_next -= 1
                return 307, 0.0
            if self.hang_next:
                self.hang_next -= 1
                return 200, self.hang_seconds
            if self.fail_next:
                self.fail_next -= 1
                return 500, 0.0
            if time.monotonic() < self.fail_until:
                return 500, 0.0
            return 200, 0.0

    def accepted(self) -> list[dict]:
        """Events taken (2xx, late ones too), de-duplicated by event id, in arrival order."""
        seen, events = set(), []
        for item in self.received:
            event = item.event
            if event["id"] not in seen:
                seen.add(event["id"])
                events.append(event)
        return events

    def verified(self, secret: str) -> bool:
        now = int(time.time())
        return all(verify(item.signature, secret, item.body, now) for item in self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_receiver(tls_cert=None) -> Receiver:
    """`tls_cert`: a trustme LeafCert to answer HTTPS with."""
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, wait = receiver.answer()
            if wait:
                time.sleep(wait)
            if status < 300:  # a hung answer was processed too: the sender retries it (at-least-once)
                with receiver.lock:
                    receiver.received.append(Received(body, self.headers.get(HEADER, ""), time.monotonic(),
                                                      time.time()))
            try:
                self.send_response(status)
                if status == 307:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up waiting (a hang)

        def log_message(self, *args):
            pass

    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.server.daemon_threads = True
    if tls_cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_cert.configure_cert(context)
        receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
    return receiver


def events_in_creation_order(sessions) -> list[str]:
    """The public ids of every webhook event, in the order they were written
    (the order an endpoint must receive them), first copies only."""
    from sqlalchemy import select

    from db.engine import UnitOfWork
    from db.models import WebhookEvent

    with UnitOfWork(sessions) as uow:
        ids = uow.session.scalars(select(WebhookEvent.public_id).order_by(WebhookEvent.id)).all()
    return list(dict.fromkeys(ids))
