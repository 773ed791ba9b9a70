"""The admin dashboard's figures: the pipeline snapshot (queues, outbox,
dead letters, breakers: usecases.operations.pipeline_status) plus the
flow of the last minute and the users connected now.

Each figure is one bounded query or one Redis command, so a browser
refreshing every few seconds costs little (D58):
- accepted per minute: messages created in the last 60 s (indexed created_at);
- delivered per minute: deliveries acknowledged in the last 60 s among the
  newest DELIVERED_WINDOW delivery rows — `delivered_at` has no index (one
  would cost every acknowledgement its HOT update), so a late catch-up of a
  much older delivery is not counted here (the Prometheus counter counts
  every one);
- connected users: the presence store's count of users with a live session.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import func, select

from db.engine import UnitOfWork
from db.models import Delivery, Message
from usecases.operations.pipeline_status import PipelineStatus
from usecases.ports import Ports

log = logging.getLogger(__name__)

MINUTE = timedelta(seconds=60)
DELIVERED_WINDOW = 100_000


def dashboard_figures(ports: Ports, snapshot: Callable[[datetime], PipelineStatus], now: datetime) -> dict:
    """Everything the dashboard shows, as JSON-ready values."""
    with UnitOfWork(ports.sessions) as uow:
        session = uow.session
        accepted = session.scalar(select(func.count()).select_from(Message).where(Message.created_at >= now - MINUTE))
        newest = select(func.max(Delivery.id)).scalar_subquery()
        delivered = session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.id > newest - DELIVERED_WINDOW, Delivery.delivered_at >= now - MINUTE))
    return {"accepted_per_minute": accepted, "delivered_per_minute": delivered,
            "connected_users": _connected(ports, now), **snapshot(now).as_dict()}


def _connected(ports: Ports, now: datetime) -> int | None:
    """None when the presence store does not answer (shown as unknown)."""
    try:
        return ports.presence.connected_count(now.timestamp())
    except Exception as e:
        log.warning("connected users unknown: %r", e)
        return None
