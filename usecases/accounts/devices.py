"""Devices: the push tokens of a user's phones and browsers.

A token belongs to one installation, which belongs to whoever signed in on
it last: registering a known token moves it to the caller.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from db.sql import insert_ignoring_conflict
from db.models import Device
from pipeline.cursors import decode_cursor, encode_cursor
from pipeline.timestamps import iso

# Reinstalls leave dead tokens behind; past this many the least recently
# seen is dropped so one account cannot fan a push out without bound.
MAX_DEVICES_PER_USER = 20


def register_device(session: Session, *, user_id: int, platform: str, token: str,
                    now: datetime) -> tuple[Device, bool]:
    """The caller's device for `token` and whether it is new.

    Safe under concurrent calls: the unique token index decides the winner.
    """
    created = insert_ignoring_conflict(
        session, Device, {"user_id": user_id, "platform": platform, "token": token,
                          "created_at": now, "last_seen_at": now}, ["token"])
    if not created:
        session.execute(update(Device).where(Device.token == token)
                        .values(user_id=user_id, platform=platform, last_seen_at=now))
    device = session.scalars(select(Device).where(Device.token == token)
                             .execution_options(populate_existing=True)).one()
    _drop_least_recent(session, user_id)
    return device, created


def _drop_least_recent(session: Session, user_id: int) -> None:
    keep = (select(Device.id).where(Device.user_id == user_id)
            .order_by(Device.last_seen_at.desc(), Device.id.desc()).limit(MAX_DEVICES_PER_USER))
    session.execute(delete(Device).where(Device.user_id == user_id, Device.id.not_in(keep)))


def list_devices(session: Session, user_id: int, *, limit: int,
                 cursor: str | None = None) -> tuple[list[Device], str | None]:
    """One page of the user's devices, oldest first, and the next page's cursor.

    Raises:
        BadRequest: a cursor that is not one of ours.
    """
    where = [Device.user_id == user_id]
    if cursor:
        created_at, device_id = decode_cursor(cursor)
        where.append(or_(Device.created_at > created_at,
                         and_(Device.created_at == created_at, Device.id > device_id)))
    rows = list(session.scalars(select(Device).where(*where)
                                .order_by(Device.created_at, Device.id).limit(limit + 1)))
    page = rows[:limit]
    more = len(rows) > limit
    return page, encode_cursor(page[-1].created_at, page[-1].id) if more else None


def delete_own_device(session: Session, *, user_id: int, device_id: int) -> bool:
    """Forget one of the user's devices; False when it is not theirs (or gone)."""
    deleted = session.execute(delete(Device).where(Device.id == device_id, Device.user_id == user_id)
                              .returning(Device.id)).first()
    return deleted is not None


def devices_of(session: Session, user_id: int) -> list[Device]:
    return list(session.scalars(select(Device).where(Device.user_id == user_id).order_by(Device.id)))


def device_view(device: Device) -> dict:
    """What the API shows of a device."""
    return {
        "id": device.id,
        "platform": device.platform,
        "token": device.token,
        "created_at": iso(device.created_at),
        "last_seen_at": iso(device.last_seen_at),
    }
