"""A socket's ephemeral signals: its session's presence and the typing
frames it relays. Neither is stored: both are rung without a position
(docs/websocket.md, "typing" and "presence"); rules in pipeline.presence
and pipeline.typing_indicator."""

from __future__ import annotations

import json
import logging
import time

from usecases.chat.conversations import active_member_ids, check_can_send, conversation_for_member
from db.engine import UnitOfWork
from pipeline.errors import CannotMessage, ConversationClosed
from pipeline.frames import encode, event_frame
from pipeline.presence import LAST_SEEN_TTL_SECONDS, ONLINE, may_switch_now
from pipeline.typing_indicator import gate, typing_payload
from web.presence import announce_if_changed

log = logging.getLogger(__name__)


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
        store = self.res.presence
        try:
            store.set_session(self.user_id, self.session_id, self.state, now + self.res.settings.ws_ping_seconds * 3)
            store.touch_last_seen(self.user_id, now, LAST_SEEN_TTL_SECONDS)
        except Exception as e:  # presence unknown → offline; the socket carries on
            log.warning("could not record presence of user %s: %r", self.user_id, e)
            return
        self.res.presence_sweeper.ensure_started(self.res)
        announce_if_changed(self.res, self.user_id)

    def leave(self) -> None:
        """The socket closed: forget its session; the user may now be offline."""
        try:
            self.res.presence.drop_sessions(self.user_id, [self.session_id])
            self.res.presence.touch_last_seen(self.user_id, time.time(), LAST_SEEN_TTL_SECONDS)
        except Exception as e:  # the session expires on its own
            log.warning("could not forget presence of user %s: %r", self.user_id, e)
        announce_if_changed(self.res, self.user_id)

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
        relays = gate(self._relays, conversation_id, state, time.monotonic(), self.res.settings.typing_ttl_seconds)
        if relays is None:
            return []
        self._relays = relays
        relay_typing(self.res, self.user_id, conversation_id, state, self.context)
        return []


def relay_typing(res, user_id: int, conversation_id: int, state: str, context: int | None) -> None:
    with UnitOfWork(res.sessions) as uow:
        conversation, _ = conversation_for_member(uow.session, conversation_id, user_id, context)
        try:
            check_can_send(uow.session, conversation, user_id)
        except (CannotMessage, ConversationClosed):
            return  # nobody to type to: dropped like an excess frame, revealing nothing
        others = [m for m in active_member_ids(uow.session, conversation_id) if m != user_id]
    ttl = res.settings.typing_ttl_seconds
    text = encode(event_frame("typing", None, typing_payload(conversation_id, user_id, state, ttl)))
    try:
        for other in others:
            res.realtime.ring(other, text)
    except Exception as e:  # typing is a courtesy: lost with the doorbell
        log.warning("could not relay typing in conversation %s: %r", conversation_id, e)


def ephemeral_in_scope(text: str, context: int | None) -> bool:
    """Whether a frame without a position may go to a socket scoped to one
    conversation: typing only from that conversation, presence not at all
    (a scoped client asks GET /v1/presence, limited to its conversation)."""
    if context is None:
        return True
    frame = json.loads(text)
    if frame.get("type") == "typing":
        return frame.get("conversation_id") == context
    return frame.get("type") != "presence"
