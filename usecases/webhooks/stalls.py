"""Endpoints nobody works on: a job lost, or a worker killed mid-POST
(its lease runs out, and the redelivered job found the lease still held).
The maintenance tick wakes them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from db.models import WebhookEndpoint, WebhookEvent
from pipeline.contract import DELIVER_WEBHOOKS, WEBHOOKS_QUEUE
from pipeline.jobs import JobSpec
from usecases.ports import WebhookPolicy
from usecases.webhooks.status_events import PENDING


def kick_stalled(session: Session, now: datetime, policy: WebhookPolicy) -> list[JobSpec]:
    """Endpoints whose head event has been due for `stall_seconds` and that no
    dispatcher holds (a lost job, a worker killed mid-send): a job for each,
    and their lease stamped so the next kick waits as long again."""
    stall = now - timedelta(seconds=policy.stall_seconds)
    # The head event only (one probe of the pending index per endpoint): a
    # head that is backing off is not stalled, whatever waits behind it.
    head_due = (select(WebhookEvent.next_attempt_at)
                .where(WebhookEvent.endpoint_id == WebhookEndpoint.id, WebhookEvent.state == PENDING)
                .order_by(WebhookEvent.id).limit(1).scalar_subquery())
    stalled = list(session.scalars(
        select(WebhookEndpoint.id)
        .where(WebhookEndpoint.enabled, or_(WebhookEndpoint.lease_until.is_(None),
                                            WebhookEndpoint.lease_until <= stall), head_due <= stall)
        .order_by(WebhookEndpoint.id)))
    if not stalled:
        return []
    session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id.in_(stalled)).values(lease_until=now))
    return [JobSpec(WEBHOOKS_QUEUE, DELIVER_WEBHOOKS, (endpoint_id,)) for endpoint_id in stalled]
