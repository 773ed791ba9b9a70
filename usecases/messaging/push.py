"""Push one message to an offline recipient's devices, once per device —
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


def send_push(sessions: SessionFactory, sender: PushSender, message_id: int, user_id: int) -> None:
    """Push one message to each of the user's devices not yet notified of it.

    Raises:
        TransientError: some device could not be notified yet (quota, 5xx,
            open breaker); the retry skips the devices already done.
        PushRejected: FCM refused the notification itself.
    """
    with UnitOfWork(sessions) as uow:
        content = push_content(uow.session, message_id, user_id)
        if content is None:
            log.error("message %s does not exist; nothing to push", message_id)
            return
        push_ids = open_pushes(uow.session, message_id, user_id, datetime.now(timezone.utc))
        uow.commit()
    errors = [error for push_id in push_ids if (error := _notify(sessions, sender, content, push_id))]
    _raise_first(errors)


def _notify(sessions: SessionFactory, sender: PushSender, content: tuple[dict, int | None],
            push_id: int) -> HeraldError | None:
    """Notify one device, holding its push row's lock across the provider call."""
    message, position = content
    with UnitOfWork(sessions) as uow:
        target = lock_push(uow.session, push_id)
        error = None if target is None else _send(uow.session, sender, message, position, target)
        uow.commit()
    return error


def _send(session, sender: PushSender, message: dict, position: int | None, target: PushTarget) -> HeraldError | None:
    """Send and record the outcome; the error to raise once every device had its turn."""
    payload = build_push(message, position, target.token, target.platform)
    try:
        status = sender.send(payload)
    except PushTokenUnregistered as error:
        log.info("pruning device %s: %s", target.device_id, error.detail)
        record_pruned(session, target, error.detail)
        return None
    except (PushRejected, TransientError) as error:
        record_attempt_failed(session, target.push_id, error.detail, final=isinstance(error, PushRejected))
        return error
    record_delivered(session, target.push_id, status, datetime.now(timezone.utc))
    return None


def _raise_first(errors: list[HeraldError]) -> None:
    """A transient error wins: the retry still has devices to notify."""
    transient = [error for error in errors if isinstance(error, TransientError)]
    if transient or errors:
        raise (transient or errors)[0]
