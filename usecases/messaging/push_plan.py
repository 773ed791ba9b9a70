"""Which recipients of a delivery get a push: those with no live session.

The `send_push` jobs are written in the delivery's own transaction, so a
push is lost neither when RabbitMQ refuses the enqueue nor when the worker
dies after its commit: the sweeper publishes whatever was not. Presence
that cannot be read counts as offline: a needless push beats a silent phone.
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
    """Outbox rows for `send_push`, one per offline recipient of each positioned message."""
    if not ports.push.enabled:
        return []
    others = [item for item in positioned if item.payload["sender"]["id"] != item.recipient_id]
    online = _online(ports, sorted({item.recipient_id for item in others}), now.timestamp())
    specs = [JobSpec(PUSH_QUEUE, SEND_PUSH, (item.payload["id"], item.recipient_id), message_id=item.payload["id"])
             for item in others if item.recipient_id not in online]
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
