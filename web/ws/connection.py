"""One open socket: replay from the stream, then live frames, no gaps.

Two loops share the socket: the writer (this greenlet) is the only one that
sends; the reader handles the client's frames and hands anything it must
answer to the writer through the mailbox.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from datetime import datetime, timezone

from simple_websocket import ConnectionClosed

from metrics.edge import FRAMES_SENT, RING_TO_FRAME, SOCKETS_OPEN, frame_type
from pipeline.control import CLOSE_CODES
from pipeline.errors import HeraldError, TransientError
from pipeline.frames import (clamp_ack, encode, error_frame, next_action,
                             parse_client_frame, pong_frame, ready_frame)
from pipeline.rings import Ring, in_scope
from usecases.messaging.stream_reading import replay_page
from web.ws import commands
from web.ws.acks import AckBuffer
from web.ws.mailbox import Mailbox
from web.ws.signals import SocketSignals

log = logging.getLogger(__name__)
REPLAY_PAGE = 500
CLOSE_SERVER_ERROR = 1011
# The registered WebSocket close code "Try Again Later": the edge could not
# read the stream (a TransientError: its database pool's bounded wait ran
# out, D89). The client reconnects with `since` later and loses nothing:
# the stream is stored.
CLOSE_TRY_AGAIN_LATER = 1013


class Connection:
    def __init__(self, ws, user_id: int, since: int, res, context: int | None = None, generation: int = 0):
        self.ws = ws
        self.user_id = user_id
        self.generation = generation  # of the token (or ticket) that opened it: a revocation closes it (D60)
        self.context = context  # a token scoped to one conversation sees only it
        self.res = res
        self.policy = res.sockets
        self.mailbox = Mailbox(res.sockets.send_queue_limit, since)
        self.session_id = uuid.uuid4().hex
        self.closed = threading.Event()
        self.acks = AckBuffer(res, user_id, context)
        self.signals = SocketSignals(res, user_id, self.session_id, context)

    @property
    def last_sent(self) -> int:
        """The stream position sent so far (kept on the mailbox, where the lost-ring check reads it)."""
        return self.mailbox.delivered

    @last_sent.setter
    def last_sent(self, position: int) -> None:
        self.mailbox.delivered = position

    def run(self) -> None:
        SOCKETS_OPEN.inc()
        try:
            self._run()
        finally:
            SOCKETS_OPEN.dec()

    def _run(self) -> None:
        self.signals.beat()  # this session is live (presence, and no push while it lasts)
        if self.res.lost_rings is not None:
            self.res.lost_rings.ensure_started(self.res)
        self.res.hub.attach(self.user_id, self.mailbox)
        self._close_if_revoked()
        # In a copy of this context: the reader's log lines and jobs keep the socket's request id.
        reader = threading.Thread(target=contextvars.copy_context().run, args=(self._read_loop,),
                                  name="herald-ws-reader", daemon=True)
        reader.start()
        try:
            self._fill()
            self._send(encode(ready_frame(self.last_sent)))
            self._write_loop()
        except ConnectionClosed:
            pass
        except TransientError as e:
            log.warning("closing the socket of user %s: %s (%s)", self.user_id, e.detail, e.code)
            self._close(CLOSE_TRY_AGAIN_LATER, "try again later")
        except Exception:
            # After the upgrade an error must close the socket, not become an
            # HTTP 500 written into the WebSocket stream (seen when the
            # replay waited past the pool's timeout): 1011, the client
            # reconnects from its last position.
            log.exception("socket of user %s failed", self.user_id)
            self._close(CLOSE_SERVER_ERROR, "server error, reconnect")
        finally:
            self.closed.set()
            self.acks.flush()
            self.res.hub.detach(self.user_id, self.mailbox)
            self.signals.leave()

    def _close_if_revoked(self) -> None:
        """A revocation heard between the handshake's check and the attach
        found no mailbox to close: the list has it now (noted before closing)."""
        revocations = self.res.revocations
        if revocations.refuses(self.user_id, self.generation):
            self.mailbox.close(*CLOSE_CODES[revocations.reason(self.user_id)])

    def _write_loop(self) -> None:
        interval = self.policy.ping_seconds
        next_beat = time.monotonic() + interval
        while not self.closed.is_set():
            # On a timer, not only when idle: a busy socket must still renew
            # its session.
            if self.mailbox.wait(max(0.0, next_beat - time.monotonic())):
                if self.mailbox.close_request is not None:
                    self.ws.close(*self.mailbox.close_request)
                    return
                items, resync = self.mailbox.drain()
                if resync:
                    self._fill()
                for ring in items:
                    self._deliver(ring)
                if items and self.mailbox.drained_oldest_at is not None:
                    RING_TO_FRAME.observe(time.monotonic() - self.mailbox.drained_oldest_at)
            if time.monotonic() >= next_beat:
                self._heartbeat()
                next_beat = time.monotonic() + interval

    def _deliver(self, ring: Ring) -> None:
        if ring.position is None:
            if in_scope(ring.conversation_id, self.context):
                self._send(ring.text)
            return
        action = next_action(self.last_sent, ring.position)
        if action == "send":
            if in_scope(ring.conversation_id, self.context):
                self._send(ring.text)
            self.last_sent = ring.position
        elif action == "fill":
            self._fill()

    def _fill(self) -> None:
        """Send every stream item after `last_sent` from the database."""
        while True:
            page = replay_page(self.res.ports, self.user_id, self.last_sent, datetime.now(timezone.utc),
                               REPLAY_PAGE, self.context)
            for position, frame in page.items:
                self._send(encode(frame))
                self.last_sent = position
            self.last_sent = max(self.last_sent, page.served_upto)
            if page.complete:
                return

    def _heartbeat(self) -> None:
        # A ring lost after its commit is found by the process's lost-ring
        # check (web.ws.lost_rings), one statement for all its sockets.
        self.signals.beat()

    def _close(self, code: int, reason: str) -> None:
        try:
            self.ws.close(code, reason)
        except Exception:  # already closed
            pass

    def _send(self, text: str) -> None:
        self.ws.send(text)
        FRAMES_SENT.labels(frame_type(text)).inc()

    def _read_loop(self) -> None:
        try:
            while not self.closed.is_set():
                data = self.ws.receive()
                if data is not None:
                    self._handle(data)
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("socket reader for user %s failed", self.user_id)
        finally:
            self.closed.set()
            self.mailbox.wake()

    def _handle(self, data: str | bytes) -> None:
        try:
            frame = parse_client_frame(data, self.policy.max_frame_bytes)
        except HeraldError as e:
            self._answer(error_frame(e.code, e.detail))
            return
        if frame.type == "ping":
            self._answer(pong_frame())
        elif frame.type in ("ack", "read"):
            self.acks.note(frame.type, clamp_ack(frame.position, self.last_sent))
        else:
            for answer in commands.handle(self.res, self.user_id, frame, self.context, self.signals):
                self._answer(answer)

    def _answer(self, frame: dict) -> None:
        """Hand an answer to the writer; it concerns this socket's own scope, so it is always sent."""
        self.mailbox.offer(Ring(self.user_id, None, encode(frame), self.context))
