"""Which recipients of a delivery get a push: those with a device and no
live session — one `send_push` job per message for all of them.

The `send_push` jobs are written in the delivery's own transaction, so a
push is lost neither when RabbitMQ refuses the enqueue nor when the worker
dies after its commit: the sweeper publishes whatever was not. A recipient
with no registered device costs nothing (no job, no outbox row, no
transaction): whether each recipient has a device is read with their
pending deliveries (usecases.messaging.deliveries), before presence is
asked, and a device registered after the delivery is not pushed that
message. Presence that cannot be read counts as offline: a
needless push beats a silent phone.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from pipeline.contract import PUSH_QUEUE, SEND_PUSH
from pipeline.jobs import Job, JobSpec
from usecases.messaging.deliveries import Positioned
from usecases.outbox import write_jobs
from usecases.ports import Ports

log = logging.getLogger(__name__)


def push_jobs(session: Session, ports: Ports, positioned: list[Positioned], now: datetime) -> list[Job]:
    """Outbox rows for `send_push(message id, [user ids])`: one per positioned
    message that has offline recipients with a device (never its sender)."""
    if not ports.push.enabled:
        return []
    reachable = [item for item in positioned
                 if item.has_device and item.payload["sender"]["id"] != item.recipient_id]
    online = _online(ports, sorted({item.recipient_id for item in reachable}), now.timestamp())
    users_of: dict[int, list[int]] = {}
    for item in reachable:
        if item.recipient_id not in online:
            users_of.setdefault(item.payload["id"], []).append(item.recipient_id)
    specs = [JobSpec(PUSH_QUEUE, SEND_PUSH, (message_id, sorted(user_ids)), message_id=message_id)
             for message_id, user_ids in sorted(users_of.items())]
    return write_jobs(session, specs, now, ports.outbox)


def _online(ports: Ports, user_ids: list[int], now: float) -> set[int]:
    """Who has a live session, asked once for all the recipients (one Redis round trip)."""
    if not user_ids:
        return set()
    try:
        return ports.presence.online_among(user_ids, now)
    except Exception as e:
        log.warning("presence of %d recipient(s) unknown (%r); pushing", len(user_ids), e)
        return set()
