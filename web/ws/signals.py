"""A socket's ephemeral signals: its session's presence and the typing
frames it relays. Neither is stored: both are rung without a position
(docs/websocket.md, "typing" and "presence"). This class keeps only the
socket's own state (its session's online/away, its typing rate limit);
the work is the use cases' (usecases.presence.announce, .typing)."""

from __future__ import annotations

import time

from pipeline.presence import ONLINE, may_switch_now
from pipeline.typing_indicator import gate
from usecases.presence.announce import record_goodbye, record_heartbeat
from usecases.presence.typing import relay_typing


class SocketSignals:
    def __init__(self, res, user_id: int, session_id: str, context: int | None):
        self.res = res
        self.user_id = user_id
        self.session_id = session_id
        self.context = context
        self.state = ONLINE  # a socket announces online on connect
        self._relays: dict = {}
        self._switched_at: float | None = None

    def beat(self) -> None:
        """On connect and every heartbeat: refresh this session and last seen; announce a change."""
        now = time.time()
        expires_at = now + self.res.sockets.ping_seconds * 3
        if record_heartbeat(self.res.ports, self.user_id, self.session_id, self.state, now, expires_at):
            self.res.presence_sweeper.ensure_started(self.res)

    def leave(self) -> None:
        """The socket closed: forget its session; the user may now be offline."""
        record_goodbye(self.res.ports, self.user_id, self.session_id, time.time())

    def on_presence(self, raw: dict) -> list[dict]:
        """Switch this socket online/away; too frequent switches wait for the heartbeat."""
        self.state = raw["state"]
        now = time.monotonic()
        if may_switch_now(self._switched_at, now):
            self._switched_at = now
            self.beat()
        return []

    def on_typing(self, raw: dict) -> list[dict]:
        """Relay to the conversation's other members; over the rate limit, drop silently.

        Raises:
            NotFound: the user is not a member (answered as an error frame).
        """
        conversation_id, state = raw["conversation_id"], raw["state"]
        relays = gate(self._relays, conversation_id, state, time.monotonic(), self.res.ports.chat.typing_ttl_seconds)
        if relays is None:
            return []
        self._relays = relays
        relay_typing(self.res.ports, self.user_id, conversation_id, state, self.context)
        return []
