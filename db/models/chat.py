"""Chat: conversations, their members, reactions, blocks, and the
non-message items of a user's stream."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, Id, Timestamp


class Conversation(Base):
    """A direct (exactly one per pair) or group conversation.

    `last_seq` hands out message sequence numbers under this row's lock, so
    `seq` is gap-free and in the order the edge accepted the messages.
    """

    __tablename__ = "conversations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # direct | group
    # "<low id>:<high id>" for direct conversations: the unique index makes
    # get-or-create safe under concurrent requests.
    pair_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(String(200))
    context_ref: Mapped[str | None] = mapped_column(String(200), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    last_seq: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    last_message_at: Mapped[datetime | None] = mapped_column(Timestamp)
    status: Mapped[str] = mapped_column(String(16))  # active | closed


class ConversationMember(Base):
    __tablename__ = "conversation_members"
    __table_args__ = (Index("ix_member_user", "user_id", "left_at"),)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # owner | admin | member
    joined_at: Mapped[datetime] = mapped_column(Timestamp)
    left_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Read marker: only moves forward; unread counts derive from it.
    read_seq: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    archived_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Reaction(Base):
    """One per (user, message, emoji): adding twice or removing twice is a no-op."""

    __tablename__ = "reactions"
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    emoji: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class Block(Base):
    __tablename__ = "blocks"
    blocker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    blocked_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class StreamEvent(Base):
    """A non-message item of a user's stream (receipt, reaction, edit,
    delete, membership change). Positions come from the same `streams`
    counter as message deliveries, so one `since` covers both."""

    __tablename__ = "stream_events"
    __table_args__ = (UniqueConstraint("user_id", "position", name="uq_stream_event_position"),
                      # One fan-out job writes each event once per user, however often it runs.
                      UniqueConstraint("user_id", "event_key", name="uq_stream_event_key"))
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    position: Mapped[int] = mapped_column(BigInteger)
    event_key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
