"""Push rows: one per (message, device), the anchor that keeps a redelivered
push job from notifying a device twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, literal, select, update
from sqlalchemy.orm import Session

from db.sql import insert_from_select_ignoring_conflict
from db.types import UtcDateTime
from usecases.messaging.stream import message_payload
from db.models import Delivery, Device, Message, Push, User
from pipeline import push as rules


@dataclass(frozen=True)
class PushTarget:
    push_id: int
    device_id: int
    platform: str
    token: str


def push_content(session: Session, message_id: int, user_ids: list[int]) -> tuple[dict, dict[int, int | None]] | None:
    """The stream's view of the message and each user's position of it, in
    one query; None if the message is gone."""
    rows = session.execute(
        select(Message, User, Delivery.recipient_id, Delivery.position)
        .join(User, User.id == Message.sender_id)
        .outerjoin(Delivery, (Delivery.message_id == Message.id) & Delivery.recipient_id.in_(user_ids))
        .where(Message.id == message_id)
    ).all()
    if not rows:
        return None
    message, sender = rows[0][0], rows[0][1]
    positions = {recipient_id: position for _, _, recipient_id, position in rows if recipient_id is not None}
    return message_payload(message, sender), positions


def open_pushes(session: Session, message_id: int, user_ids: list[int], now: datetime) -> list[tuple[int, int]]:
    """Ensure a push row for each device of the users; (push id, user id) of
    those not yet settled. Two statements, whatever the number of devices.

    Insert-on-conflict: a redelivered job finds the rows of the first run,
    and a device already notified (`sent`) is not returned again.
    """
    devices = (select(literal(message_id), Device.user_id, Device.id, literal(rules.SENDING), literal(0),
                      literal(now, UtcDateTime()))
               .where(Device.user_id.in_(user_ids)).order_by(Device.id))
    insert_from_select_ignoring_conflict(
        session, Push, ["message_id", "user_id", "device_id", "status", "attempts", "created_at"], devices,
        ["message_id", "device_id"])
    return [(push_id, user_id) for push_id, user_id in session.execute(
        select(Push.id, Push.user_id).where(Push.message_id == message_id, Push.user_id.in_(user_ids),
                                            Push.status == rules.SENDING).order_by(Push.id))]


def lock_push(session: Session, push_id: int) -> PushTarget | None:
    """Lock one unsettled push for this transaction, read with its device in
    one statement; None if settled or taken.

    SKIP LOCKED: a concurrent duplicate of the job skips the device another
    worker is notifying right now instead of notifying it a second time.
    """
    query = (select(Push.user_id, Push.device_id, Device.user_id.label("owner_id"), Device.platform, Device.token)
             .outerjoin(Device, Device.id == Push.device_id)
             .where(Push.id == push_id, Push.status == rules.SENDING))
    row = session.execute(query.with_for_update(of=Push.__table__, skip_locked=True)).first()
    if row is None:
        return None
    if row.owner_id is None:
        _settle(session, push_id, rules.PRUNED, "the device was removed before the push")
        return None
    if row.owner_id != row.user_id:
        # The token was registered by another account since: never show
        # one user's message on someone else's phone.
        _settle(session, push_id, rules.FAILED, "the device moved to another account")
        return None
    return PushTarget(push_id, row.device_id, row.platform, row.token)


def _settle(session: Session, push_id: int, status: str, error: str) -> None:
    session.execute(update(Push).where(Push.id == push_id).values(status=status, last_error=error))


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
