"""Push rows: one per (message, device), the anchor that keeps a redelivered
push job from notifying a device twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from usecases.accounts.devices import devices_of
from db.sql import insert_ignoring_conflict
from usecases.messaging.stream import message_payload
from db.models import Delivery, Device, Message, Push, User
from pipeline import push as rules


@dataclass(frozen=True)
class PushTarget:
    push_id: int
    device_id: int
    platform: str
    token: str


def push_content(session: Session, message_id: int, user_id: int) -> tuple[dict, int | None] | None:
    """The stream's view of the message and its position for the user; None if gone."""
    row = session.execute(
        select(Message, User, Delivery.position)
        .join(User, User.id == Message.sender_id)
        .outerjoin(Delivery, (Delivery.message_id == Message.id) & (Delivery.recipient_id == user_id))
        .where(Message.id == message_id)
    ).first()
    if row is None:
        return None
    message, sender, position = row
    return message_payload(message, sender), position


def open_pushes(session: Session, message_id: int, user_id: int, now: datetime) -> list[int]:
    """Ensure a push row for each of the user's devices; the ids not yet settled.

    Insert-on-conflict: a redelivered job finds the rows of the first run,
    and a device already notified (`sent`) is not returned again.
    """
    for device in devices_of(session, user_id):
        insert_ignoring_conflict(session, Push, {
            "message_id": message_id, "user_id": user_id, "device_id": device.id,
            "status": rules.SENDING, "attempts": 0, "created_at": now}, ["message_id", "device_id"])
    return list(session.scalars(
        select(Push.id).where(Push.message_id == message_id, Push.user_id == user_id,
                              Push.status == rules.SENDING).order_by(Push.id)))


def lock_push(session: Session, push_id: int) -> PushTarget | None:
    """Lock one unsettled push for this transaction; None if settled or taken.

    SKIP LOCKED: a concurrent duplicate of the job skips the device another
    worker is notifying right now instead of notifying it a second time.
    """
    query = select(Push).where(Push.id == push_id, Push.status == rules.SENDING)
    push = session.scalars(query.with_for_update(skip_locked=True)).one_or_none()
    if push is None:
        return None
    device = session.get(Device, push.device_id) if push.device_id is not None else None
    if device is None:
        push.status, push.last_error = rules.PRUNED, "the device was removed before the push"
        return None
    if device.user_id != push.user_id:
        # The token was registered by another account since: never show
        # one user's message on someone else's phone.
        push.status, push.last_error = rules.FAILED, "the device moved to another account"
        return None
    return PushTarget(push.id, device.id, device.platform, device.token)


def record_delivered(session: Session, push_id: int, status: str, now: datetime) -> None:
    """The provider took the push (`sent`) or embedded mode logged it (`logged`)."""
    session.execute(update(Push).where(Push.id == push_id)
                    .values(status=status, sent_at=now, attempts=Push.attempts + 1, last_error=None))


def record_attempt_failed(session: Session, push_id: int, error: str, *, final: bool) -> None:
    """A failed attempt: retried later, or `failed` for good when `final`."""
    values = {"attempts": Push.attempts + 1, "last_error": error[:2000]}
    if final:
        values["status"] = rules.FAILED
    session.execute(update(Push).where(Push.id == push_id).values(**values))


def record_pruned(session: Session, target: PushTarget, error: str) -> None:
    """The provider says the token is dead: mark the push and delete the device now."""
    session.execute(update(Push).where(Push.id == target.push_id)
                    .values(status=rules.PRUNED, attempts=Push.attempts + 1, last_error=error[:2000]))
    session.execute(delete(Device).where(Device.id == target.device_id))
