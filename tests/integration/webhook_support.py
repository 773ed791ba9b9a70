"""Helpers of the webhook tests: a business with an endpoint on a local
receiver, and a pump that plays the sweeper and the webhooks worker."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update

from db.engine import UnitOfWork
from db.models import Outbox
from pipeline.contract import DELIVER_WEBHOOKS
from usecases.webhooks.dispatch import dispatch

WEBHOOK_ENV = {"WEBHOOK_ALLOW_PRIVATE": "on", "WEBHOOK_ALLOW_HTTP": "on", "WEBHOOK_TIMEOUT_SECONDS": "0.5",
               "WEBHOOK_FIRST_DELAY_SECONDS": "0.05", "WEBHOOK_MAX_DELAY_SECONDS": "0.2"}


def now() -> datetime:
    return datetime.now(timezone.utc)


def pump(ports, client, until=None, rounds: int = 400) -> int:
    """Run every due `deliver_webhooks` job in the outbox — those the
    (recording) publisher was handed at once, and scheduled ones whose time
    came (what the publisher, the sweeper and a webhooks worker would do) —
    until `until()` or no job is left; how many events were delivered."""
    import time

    delivered = 0
    for _ in range(rounds):
        with UnitOfWork(ports.sessions) as uow:
            due = uow.session.execute(
                select(Outbox.id, Outbox.args, Outbox.available_at)
                .where(Outbox.actor_name == DELIVER_WEBHOOKS, Outbox.published_at.is_(None))
                .order_by(Outbox.id)).all()
            handed = {job.outbox_id for job in ports.publisher.jobs}
            ready = [row for row in due if row.id in handed or row.available_at <= now()]
            uow.session.execute(update(Outbox).where(Outbox.id.in_([r.id for r in ready])).values(published_at=now()))
            uow.commit()
        for row in ready:
            delivered += dispatch(ports, client, row.args[0], now)
        if until is not None and until():
            return delivered
        if not due:
            return delivered
        if not ready:
            time.sleep(0.02)
    return delivered
