"""Fields of message events read from the database when the event is sent,
not when it was queued.

* A `reaction` event gets the emoji's count when it is appended. The fan-out
  reads it while holding every audience member's stream lock, so for each
  member a later position always carries a count read later: the last
  reaction event a client sees has the current count.
* An `edit` event never stores the text: its body, edited_at and deleted
  flag are read from the message whenever the frame is built (ring or
  replay). A deleted message's text therefore cannot come back from a
  stream, and a replayed edit shows the message as it is now.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from usecases.chat.reactions import REACTION, reaction_count
from db.models import Message
from pipeline.timestamps import iso

EDIT = "edit"


def stored_payload(session: Session, kind: str, payload: dict) -> dict:
    """What each stream keeps of the event (call with the audience's streams locked)."""
    if kind == REACTION:
        return {**payload, "count": reaction_count(session, payload["message_id"], payload["emoji"])}
    return payload


def live_payloads(session: Session, events: list[tuple[str, dict]]) -> list[dict]:
    """Each (kind, stored payload) as its frame shows it; one query for all the edits."""
    edited = [payload["message_id"] for kind, payload in events if kind == EDIT]
    current = _current_texts(session, edited) if edited else {}
    return [{**payload, **current.get(payload["message_id"], {})} if kind == EDIT else payload
            for kind, payload in events]


def _current_texts(session: Session, message_ids: list[int]) -> dict[int, dict]:
    rows = session.execute(select(Message.id, Message.body, Message.edited_at, Message.deleted_at)
                           .where(Message.id.in_(set(message_ids)))).all()
    return {message_id: {"body": None if deleted_at else body,
                         "edited_at": iso(edited_at),
                         "deleted": deleted_at is not None}
            for message_id, body, edited_at, deleted_at in rows}
