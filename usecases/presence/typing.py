"""Relay a typing indicator to a conversation's other members: never
stored, rung without a position (rules: pipeline.typing_indicator)."""

from __future__ import annotations

import logging

from db.engine import UnitOfWork
from pipeline.errors import CannotMessage, ConversationClosed
from pipeline.frames import encode, event_frame
from pipeline.rings import Ring
from pipeline.typing_indicator import typing_payload
from usecases.chat.conversations import active_member_ids, check_can_send, conversation_for_member
from usecases.ports import Ports

log = logging.getLogger(__name__)


def relay_typing(ports: Ports, user_id: int, conversation_id: int, state: str, context: int | None) -> None:
    """Ring the other members (one round trip); a conversation one may not
    send to drops the frame silently, revealing nothing.

    Raises:
        NotFound: the user is not a member (or a scoped token's conversation is another).
    """
    with UnitOfWork(ports.sessions) as uow:
        conversation, _ = conversation_for_member(uow.session, conversation_id, user_id, context)
        try:
            check_can_send(uow.session, conversation, user_id)
        except (CannotMessage, ConversationClosed):
            return
        others = [m for m in active_member_ids(uow.session, conversation_id) if m != user_id]
    payload = typing_payload(conversation_id, user_id, state, ports.chat.typing_ttl_seconds)
    text = encode(event_frame("typing", None, payload))
    try:
        ports.realtime.ring_many([Ring(other, None, text, conversation_id) for other in others])
    except Exception as e:  # typing is a courtesy: lost with the doorbell
        log.warning("could not relay typing in conversation %s: %r", conversation_id, e)
