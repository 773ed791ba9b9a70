"""Each user's delivery stream: positions, replay and the frames' content."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from usecases.chat.event_state import live_payloads
from usecases.chat.reactions import reaction_summaries
from db.sql import insert_ignoring_conflict_returning, lock_rows, update_rows
from db.models import Delivery, Message, Stream, StreamEvent, User
from pipeline.frames import event_frame, message_frame
from pipeline import status
from pipeline.timestamps import iso


def lock_streams(session: Session, user_ids) -> dict[int, int]:
    """Take the users' stream locks for this transaction, all in one
    statement and in ascending user-id order (the one lock order of every
    writer of streams, so no deadlock); {user id: last position}.
    `user_ids` is a list, or a SELECT of user ids (a conversation's members).

    Positions are handed out under these locks, so in commit order: a
    client never sees position N+1 committed before N.

    Raises:
        NoResultFound: a user of the list has no stream (damaged data: every
            user gets one with the account); the job fails and retries.
    """
    wanted = user_ids if isinstance(user_ids, Select) else set(user_ids)
    locked = {user_id: row[0] for user_id, row in
              lock_rows(session, Stream, "user_id", wanted, ["last_position"]).items()}
    if isinstance(wanted, set) and len(locked) != len(wanted):
        raise NoResultFound(f"no stream for user(s) {sorted(wanted - set(locked))}")
    return locked


def set_last_positions(session: Session, positions: dict[int, int]) -> None:
    """Each user's stream now ends at the given position (their streams locked), one statement."""
    update_rows(session, Stream, "user_id",
                [{"user_id": user_id, "last_position": position} for user_id, position in sorted(positions.items())])


def last_position(session: Session, user_id: int) -> int:
    return session.scalar(select(Stream.last_position).where(Stream.user_id == user_id)) or 0


def last_positions(session: Session, user_ids: list[int]) -> dict[int, int]:
    """{user: last position} of those with a stream, one statement."""
    return dict(session.execute(select(Stream.user_id, Stream.last_position)
                                .where(Stream.user_id.in_(user_ids))).all())


def message_payload(message: Message, sender: User, reactions: list[dict] | None = None) -> dict:
    """What a recipient sees of a message (the `message` of a frame).

    A deleted message keeps its slot (id, seq) but not its body (nor its
    reactions). `reactions` are the viewer's summaries (reaction_summaries).
    """
    return {
        "id": message.id,
        "kind": message.kind,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "body": None if message.deleted_at else message.body,
        "priority": message.priority,
        "sender": {"id": sender.id, "name": sender.name, "role": sender.role},
        "created_at": iso(message.created_at),
        "edited_at": iso(message.edited_at),
        "deleted": message.deleted_at is not None,
        "reply_allowed": message.kind != "oneway",
        "reactions": [] if message.deleted_at else (reactions or []),
    }


def message_payloads(session: Session, messages: list[Message], viewer_id: int) -> list[dict]:
    """A page of messages as `viewer_id` sees them: senders and reactions in one query each."""
    sender_ids = {m.sender_id for m in messages}
    senders = {u.id: u for u in session.scalars(select(User).where(User.id.in_(sender_ids)))}
    reactions = reaction_summaries(session, [m.id for m in messages], viewer_id)
    return [message_payload(m, senders[m.sender_id], reactions.get(m.id)) for m in messages]


def append_events(session: Session, last: dict[int, int], event_key: str, kind: str, payload: dict,
                  now: datetime) -> list[tuple[int, int]]:
    """Put a non-message event in each locked stream of `last` ({user:
    last position}, from lock_streams) once, in one insert; the (user,
    position) of each placed, none for a user who has it already (a
    repeated fan-out job)."""
    rows = [{"user_id": user_id, "position": position + 1, "event_key": event_key, "kind": kind,
             "payload": payload, "created_at": now} for user_id, position in sorted(last.items())]
    placed = sorted(insert_ignoring_conflict_returning(session, StreamEvent, rows, ["user_id", "event_key"],
                                                       ["user_id", "position"]))
    set_last_positions(session, dict(placed))
    return placed


def replay(session: Session, user_id: int, after: int, now: datetime,
           limit: int = 500, conversation_id: int | None = None) -> list[tuple[int, dict]]:
    """Stream frames after position `after`, oldest first, at most `limit`:
    messages and events merged by position.

    Expired messages are left out: an expired message is never delivered.
    `conversation_id` narrows the stream to one conversation (scoped tokens).
    """
    messages = _message_frames(session, user_id, after, now, limit, conversation_id)
    events = _event_frames(session, user_id, after, limit, conversation_id)
    # Each list holds its first `limit` items, so the merge's first `limit` are exact.
    return sorted(messages + events, key=lambda item: item[0])[:limit]


def _message_frames(session, user_id, after, now, limit, conversation_id):
    query = (select(Delivery.position, Message, User)
             .join(Message, Message.id == Delivery.message_id)
             .join(User, User.id == Message.sender_id)
             .where(Delivery.recipient_id == user_id, Delivery.position > after,
                    Delivery.status != status.EXPIRED,
                    or_(Message.expires_at.is_(None), Message.expires_at > now))
             .order_by(Delivery.position).limit(limit))
    if conversation_id is not None:
        query = query.where(Message.conversation_id == conversation_id)
    rows = session.execute(query).all()
    reactions = reaction_summaries(session, [message.id for _, message, _ in rows], user_id)
    return [(position, message_frame(position, message_payload(message, sender, reactions.get(message.id))))
            for position, message, sender in rows]


def _event_frames(session, user_id, after, limit, conversation_id):
    query = (select(StreamEvent).where(StreamEvent.user_id == user_id, StreamEvent.position > after)
             .order_by(StreamEvent.position).limit(limit))
    events = session.scalars(query).all()
    if conversation_id is not None:
        events = [e for e in events if e.payload.get("conversation_id") == conversation_id]
    payloads = live_payloads(session, [(e.kind, e.payload) for e in events])
    return [(e.position, event_frame(e.kind, e.position, payload)) for e, payload in zip(events, payloads)]
