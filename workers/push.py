"""Push: notify an offline recipient's devices of one message, once per device.

The delivery actor commits a `send_push` job (outbox) for each recipient
who has no live session, and publishes it after ringing. A redelivered job never notifies a device twice: each
(message, device) has one `pushes` row, settled rows are skipped, and the
row is locked while its push is in flight.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import dramatiq

from db.actions.pushes import (PushTarget, lock_push, open_pushes, push_content, record_attempt_failed,
                               record_delivered, record_pruned)
from db.actions.outbox import queue_job
from db.engine import UnitOfWork
from pipeline.errors import HeraldError, PushRejected, PushTokenUnregistered, TransientError
from pipeline.jobs import PUSH_QUEUE, SEND_PUSH, Job
from pipeline.push import build_push
from workers.broker import runtime
from workers.push_sender import push_sender

log = logging.getLogger(__name__)


@dramatiq.actor(actor_name=SEND_PUSH, queue_name=PUSH_QUEUE)
def send_push(message_id: int, user_id: int) -> None:
    """Push one message to each of the user's devices not yet notified of it.

    Raises:
        TransientError: some device could not be notified yet (quota, 5xx,
            open breaker); the retry skips the devices already done.
        PushRejected: FCM refused the notification itself.
    """
    rt = runtime()
    with UnitOfWork(rt.sessions) as uow:
        content = push_content(uow.session, message_id, user_id)
        if content is None:
            log.error("message %s does not exist; nothing to push", message_id)
            return
        push_ids = open_pushes(uow.session, message_id, user_id, datetime.now(timezone.utc))
        uow.commit()
    errors = [error for push_id in push_ids if (error := _notify(rt, content, push_id))]
    _raise_first(errors)


def plan_push(session, rt, user_id: int, message_id: int, now: datetime) -> Job | None:
    """An outbox row for `send_push` when the user has no live session.

    Written in the delivery's own transaction, so a push is lost neither when
    RabbitMQ refuses the enqueue nor when the worker dies after its commit:
    the maintenance sweeper publishes whatever was not. Presence that cannot
    be read counts as offline: a needless push beats a silent phone.
    """
    if not rt.settings.push_enabled:
        return None
    try:
        online = rt.realtime.is_online(user_id)
    except Exception as e:
        log.warning("presence of user %s unknown (%r); pushing", user_id, e)
        online = False
    if online:
        return None
    return queue_job(session, queue_name=PUSH_QUEUE, actor_name=SEND_PUSH, args=[message_id, user_id], now=now,
                     grace_seconds=rt.settings.outbox_sweep_after_seconds, message_id=message_id)


def _notify(rt, content: tuple[dict, int | None], push_id: int) -> HeraldError | None:
    """Notify one device, holding its push row's lock across the provider call."""
    message, position = content
    with UnitOfWork(rt.sessions) as uow:
        target = lock_push(uow.session, push_id)
        error = None if target is None else _send(uow.session, push_sender(rt.settings), message, position, target)
        uow.commit()
    return error


def _send(session, sender, message: dict, position: int | None, target: PushTarget) -> HeraldError | None:
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
