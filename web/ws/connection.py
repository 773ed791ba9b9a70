"""One open socket: replay from the stream, then live frames, no gaps.

Two loops share the socket: the writer (this greenlet) is the only one that
sends; the reader handles the client's frames and hands anything it must
answer to the writer through the mailbox.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from datetime import datetime, timezone

from simple_websocket import ConnectionClosed

from usecases.messaging.stream import last_position, replay
from db.engine import UnitOfWork
from pipeline.errors import HeraldError
from pipeline.frames import (clamp_ack, encode, error_frame, next_action,
                             parse_client_frame, pong_frame, ready_frame)
from web.ws import commands
from web.ws.acks import AckBuffer
from web.ws.mailbox import Mailbox
from web.ws.signals import SocketSignals, ephemeral_in_scope

log = logging.getLogger(__name__)
REPLAY_PAGE = 500


class Connection:
    def __init__(self, ws, user_id: int, since: int, res, context: int | None = None):
        self.ws = ws
        self.user_id = user_id
        self.context = context  # a token scoped to one conversation sees only it
        self.last_sent = since
        self.res = res
        self.settings = res.settings
        self.mailbox = Mailbox(res.settings.ws_send_queue_limit)
        self.session_id = uuid.uuid4().hex
        self.closed = threading.Event()
        self.acks = AckBuffer(res, user_id, context)
        self.signals = SocketSignals(res, user_id, self.session_id, context)

    def run(self) -> None:
        self._register()
        self.res.hub.attach(self.user_id, self.mailbox)
        reader = threading.Thread(target=self._read_loop, name="herald-ws-reader", daemon=True)
        reader.start()
        try:
            self._fill()
            self._send(encode(ready_frame(self.last_sent)))
            self._write_loop()
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()
            self.acks.flush()
            self.res.hub.detach(self.user_id, self.mailbox)
            self._unregister()

    def _write_loop(self) -> None:
        interval = self.settings.ws_ping_seconds
        next_beat = time.monotonic() + interval
        while not self.closed.is_set():
            # On a timer, not only when idle: a busy socket must still renew
            # its session and run the lost-ring check.
            if self.mailbox.wait(max(0.0, next_beat - time.monotonic())):
                if self.mailbox.close_request is not None:
                    self.ws.close(*self.mailbox.close_request)
                    return
                items, resync = self.mailbox.drain()
                if resync:
                    self._fill()
                for position, text in items:
                    self._deliver(position, text)
            if time.monotonic() >= next_beat:
                self._heartbeat()
                next_beat = time.monotonic() + interval

    def _deliver(self, position: int | None, text: str) -> None:
        if position is None:
            if ephemeral_in_scope(text, self.context):
                self._send(text)
            return
        action = next_action(self.last_sent, position)
        if action == "send":
            if in_scope(text, self.context):
                self._send(text)
            self.last_sent = position
        elif action == "fill":
            self._fill()

    def _fill(self) -> None:
        """Send every stream item after `last_sent` from the database."""
        while True:
            with UnitOfWork(self.res.sessions) as uow:
                # Read first: a scoped socket skips past out-of-scope items up to here.
                upto = last_position(uow.session, self.user_id)
                items = replay(uow.session, self.user_id, self.last_sent, datetime.now(timezone.utc), REPLAY_PAGE,
                               conversation_id=self.context)
            for position, frame in items:
                self._send(encode(frame))
                self.last_sent = position
            if len(items) < REPLAY_PAGE:
                if self.context is not None:
                    self.last_sent = max(self.last_sent, upto)
                return

    def _heartbeat(self) -> None:
        self._register()
        # Safety net: a ring lost after its commit (worker crash, Redis
        # restart) is found here at the latest.
        with UnitOfWork(self.res.sessions) as uow:
            behind = last_position(uow.session, self.user_id) > self.last_sent
        if behind:
            self._fill()

    def _send(self, text: str) -> None:
        self.ws.send(text)

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
            frame = parse_client_frame(data, self.settings.ws_max_frame_bytes)
        except HeraldError as e:
            self.mailbox.offer(None, encode(error_frame(e.code, e.detail)))
            return
        if frame.type == "ping":
            self.mailbox.offer(None, encode(pong_frame()))
        elif frame.type in ("ack", "read"):
            self.acks.note(frame.type, clamp_ack(frame.position, self.last_sent))
        else:
            for answer in commands.handle(self.res, self.user_id, frame, self.context, self.signals):
                self.mailbox.offer(None, encode(answer))

    def _register(self) -> None:
        try:
            self.res.realtime.register_session(self.user_id, self.session_id, self.settings.ws_ping_seconds * 3)
        except Exception as e:  # presence unknown → treated as offline; delivery still reaches the stream
            log.warning("could not register session: %r", e)
        self.signals.beat()  # presence: this session is live; last seen is now

    def _unregister(self) -> None:
        try:
            self.res.realtime.unregister_session(self.user_id, self.session_id)
        except Exception as e:
            log.warning("could not unregister session: %r", e)
        self.signals.leave()


def in_scope(text: str, context: int | None) -> bool:
    """Whether a live frame belongs to the conversation a scoped token may see."""
    if context is None:
        return True
    frame = json.loads(text)
    conversation_id = frame.get("conversation_id", (frame.get("message") or {}).get("conversation_id"))
    return conversation_id == context
