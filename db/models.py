"""Tables. PostgreSQL in production, SQLite in the embedded mode."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments INTEGER PRIMARY KEY columns.
Id = BigInteger().with_variant(Integer(), "sqlite")
Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    # A mobile number that received a message before its owner signed up
    # has an account row from then on; it is activated at first login.
    activated_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Stream(Base):
    """Each user's delivery stream: positions are handed out under this row's lock."""

    __tablename__ = "streams"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    last_position: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    acked_position: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(8))
    recipient_ids: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    queued_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Scheduled sends wait in the broker's delay queue until send_at;
    # undelivered recipients turn `expired` at expires_at.
    send_at: Mapped[datetime | None] = mapped_column(Timestamp)
    expires_at: Mapped[datetime | None] = mapped_column(Timestamp, index=True)


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
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    queue_name: Mapped[str] = mapped_column(String(100))
    actor_name: Mapped[str] = mapped_column(String(100))
    args: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    available_at: Mapped[datetime] = mapped_column(Timestamp)
    published_at: Mapped[datetime | None] = mapped_column(Timestamp)


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


class OtpCode(Base):
    __tablename__ = "otp_codes"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    consumed_at: Mapped[datetime | None] = mapped_column(Timestamp)


class RefreshToken(Base):
    """Rotating refresh tokens; reuse of a spent one revokes its whole family."""

    __tablename__ = "refresh_tokens"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    used_at: Mapped[datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)


class WsTicket(Base):
    """Short-lived one-time tickets so browsers need no token in the URL."""

    __tablename__ = "ws_tickets"
    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    used_at: Mapped[datetime | None] = mapped_column(Timestamp)


class DeadLetter(Base):
    """A job that failed for good: the admins' source of truth (RabbitMQ's
    dead-letter queue is unconfirmed and expires its messages)."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("ix_dead_letter_state_created", "state", "created_at"),
        Index("ix_dead_letter_queue", "queue_name"),
        Index("ix_dead_letter_reason", "reason"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64), unique=True)  # Dramatiq message id
    queue_name: Mapped[str] = mapped_column(String(100))
    actor_name: Mapped[str] = mapped_column(String(100))
    job_args: Mapped[list] = mapped_column(JSON)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(String(100))  # error class name
    attempts: Mapped[int] = mapped_column(Integer)
    first_error: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    first_failed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    state: Mapped[str] = mapped_column(String(16))  # dead | requeued | discarded
    resolved_at: Mapped[datetime | None] = mapped_column(Timestamp)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AuditEntry(Base):
    """Who did what to which object, and when (admin actions)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class Device(Base):
    """A push token of one of a user's devices."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))  # android | ios | web
    token: Mapped[str] = mapped_column(String(512), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    last_seen_at: Mapped[datetime | None] = mapped_column(Timestamp)


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
