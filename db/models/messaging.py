"""Messages, their per-recipient deliveries, the outbox and pushes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, Id, Timestamp


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_message_conversation_seq"),
        UniqueConstraint("sender_id", "client_msg_id", name="uq_message_sender_client_id"),
        # A sender's messages newest first (GET /v1/messages, the admin console's search) without
        # sorting them all; one index for both, since every insert pays for each index.
        Index("ix_message_sender_newest", "sender_id", "id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(8))
    recipient_ids: Mapped[list] = mapped_column(JSON)
    # Indexed: the console's time ranges and the dashboard's accepted per minute.
    created_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    queued_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Scheduled sends wait in the broker's delay queue until send_at;
    # undelivered recipients turn `expired` at expires_at.
    send_at: Mapped[datetime | None] = mapped_column(Timestamp)
    expires_at: Mapped[datetime | None] = mapped_column(Timestamp, index=True)
    # Chat messages: their conversation, their sequence number in it, and
    # the client's id that makes a resend a no-op.
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    edited_at: Mapped[datetime | None] = mapped_column(Timestamp)
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Delivery(Base):
    """One row per (message, recipient): the idempotency anchor of delivery."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("message_id", "recipient_id", name="uq_delivery_message_recipient"),
        UniqueConstraint("recipient_id", "position", name="uq_delivery_recipient_position"),
        Index("ix_delivery_recipient_message", "recipient_id", "message_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16))
    position: Mapped[int | None] = mapped_column(BigInteger)
    accepted_at: Mapped[datetime] = mapped_column(Timestamp)
    queued_at: Mapped[datetime | None] = mapped_column(Timestamp)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    delivered_at: Mapped[datetime | None] = mapped_column(Timestamp)
    read_at: Mapped[datetime | None] = mapped_column(Timestamp)
    failed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    expired_at: Mapped[datetime | None] = mapped_column(Timestamp)
    last_error: Mapped[str | None] = mapped_column(Text)
    # How often an admin requeued this delivery after a dead letter failed
    # it (the one backward move, D19): webhook status sequences count on.
    requeues: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class Outbox(Base):
    """Jobs committed with their message; published after commit, swept if not.

    `available_at` is when the sweeper may publish the row: a few seconds
    after commit for an immediate send (the edge's publisher has it first),
    `send_at` for a scheduled one (the edge does not publish those).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_unpublished",
            "available_at",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # Indexed: a message's jobs (its page in the console, a dead letter's delivery job).
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    queue_name: Mapped[str] = mapped_column(String(100))
    actor_name: Mapped[str] = mapped_column(String(100))
    args: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    available_at: Mapped[datetime] = mapped_column(Timestamp)
    published_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Of the request (or job) that wrote the row; they go with the job (D51).
    request_id: Mapped[str | None] = mapped_column(String(128))
    traceparent: Mapped[str | None] = mapped_column(String(55))


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("caller_id", "key", name="uq_idempotency_caller_key"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    caller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class Push(Base):
    """One push notification per (message, device): the anchor that keeps a
    redelivered job from notifying twice."""

    __tablename__ = "pushes"
    __table_args__ = (UniqueConstraint("message_id", "device_id", name="uq_push_message_device"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16))  # sending | sent | failed | pruned
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)
