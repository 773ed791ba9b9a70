"""Push one message to its offline recipients' devices, once per device —
the `send_push` job's work.

A redelivered job never notifies a device twice: each (message, device)
has one `pushes` row, settled rows are skipped, and the row is locked
while its push is in flight.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Protocol

from db.engine import UnitOfWork
from pipeline.errors import HeraldError, PushRejected, PushTokenUnregistered, TransientError
from pipeline.push import PushPayload, build_push
from usecases.messaging.pushes import (PushTarget, lock_push, open_pushes, push_content, record_attempt_failed,
                                       record_delivered, record_pruned)
from usecases.ports import SessionFactory

log = logging.getLogger(__name__)


class PushSender(Protocol):
    """Returns the status to record, or raises PushTokenUnregistered,
    PushRejected or a TransientError (workers.push_sender)."""

    def send(self, payload: PushPayload) -> str: ...


def send_push(sessions: SessionFactory, sender: PushSender, message_id: int, user_ids: int | list[int]) -> None:
    """Push one message to each device of its offline recipients not yet
    notified of it.

    `user_ids` is the list a delivery job plans (one job per message); a
    single id is the form of jobs written before, still accepted.

    Raises:
        TransientError: some device could not be notified yet (quota, 5xx,
            open breaker); the retry skips the devices already done.
        PushRejected: FCM refused the notification itself.
    """
    users = sorted({user_ids} if isinstance(user_ids, int) else set(user_ids))
    with UnitOfWork(sessions) as uow:
        content = push_content(uow.session, message_id, users)
        if content is None:
            log.error("message %s does not exist; nothing to push", message_id)
            return
        pushes = open_pushes(uow.session, message_id, users, datetime.now(timezone.utc))
        uow.commit()
    message, positions = content
    errors = [error for push_id, user_id in pushes
              if (error := _notify(sessions, sender, message, positions.get(user_id), push_id))]
    _raise_first(errors)


def _notify(sessions: SessionFactory, sender: PushSender, message: dict, position: int | None,
            push_id: int) -> HeraldError | None:
    """Notify one device, holding its push row's lock across the provider call."""
    with UnitOfWork(sessions) as uow:
        target = lock_push(uow.session, push_id)
        error = None if target is None else _send(uow.session, sender, message, position, target)
        uow.commit()
    return error


def _send(session, sender: PushSender, message: dict, position: int | None, target: PushTarget) -> HeraldError | None:
    """Send and record the outcome; the error to raise once every device had its turn."""
    payload = build_push(message, position, target.token, target.platform)
    fields = {"push_id": target.push_id, "device_id": target.device_id}
    try:
        status = sender.send(payload)
    except PushTokenUnregistered as error:
        log.info("pruning device %s: %s", target.device_id, error.detail, extra={**fields, "outcome": "unregistered"})
        record_pruned(session, target, error.detail)
        return None
    except (PushRejected, TransientError) as error:
        log.info("push to device %s failed: %s", target.device_id, error.detail,
                 extra={**fields, "outcome": type(error).__name__})
        record_attempt_failed(session, target.push_id, error.detail, final=isinstance(error, PushRejected))
        return error
    log.info("push to device %s: %s", target.device_id, status, extra={**fields, "outcome": status})
    record_delivered(session, target.push_id, status, datetime.now(timezone.utc))
    return None


def _raise_first(errors: list[HeraldError]) -> None:
    """A transient error wins: the retry still has devices to notify."""
    transient = [error for error in errors if isinstance(error, TransientError)]
    if transient or errors:
        raise (transient or errors)[0]
