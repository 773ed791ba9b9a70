"""What admins work from: dead letters and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, Id, Timestamp


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
    # The failed job's request id and trace id (D51): search the logs and traces with them.
    request_id: Mapped[str | None] = mapped_column(String(128), index=True)
    trace_id: Mapped[str | None] = mapped_column(String(32))


class AuditEntry(Base):
    """Who did what to which object, and when: admin actions, sign-ins
    (success and failure), account changes. Written only by
    usecases.operations.audit.audit, in the transaction of what it records."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_created", "action", "created_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
