"""How long finished webhook events and their attempts are kept: what an
owner can list (`/deliveries`) and redeliver. Deleted a bounded batch per
maintenance tick, so a large backlog never makes one long transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import WebhookAttempt, WebhookEvent
from usecases.webhooks.status_events import PENDING

HISTORY = timedelta(days=30)
PER_TICK = 1000


def forget_finished_events(session: Session, now: datetime, limit: int = PER_TICK) -> int:
    """Delete up to `limit` events finished (delivered or failed) more than
    HISTORY ago, with their attempts; how many events went."""
    old = list(session.scalars(select(WebhookEvent.id).where(WebhookEvent.state != PENDING,
                                                             WebhookEvent.finished_at < now - HISTORY)
                               .order_by(WebhookEvent.id).limit(limit)))
    if old:
        session.execute(delete(WebhookAttempt).where(WebhookAttempt.event_id.in_(old)))
        session.execute(delete(WebhookEvent).where(WebhookEvent.id.in_(old)))
    return len(old)
