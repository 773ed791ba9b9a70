"""The maintenance tick: publish what the outbox still holds, expire
overdue deliveries, forget old Idempotency-Keys, wake stalled webhook
endpoints.

A crash of the edge between its commit and its publish leaves a job
committed but unpublished, and scheduled sends wait in the outbox until
`send_at`; the sweep publishes every row whose `available_at` has come.
Duplicates are harmless: delivery is idempotent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from db.engine import UnitOfWork
from usecases.messaging.deliveries import expire_overdue
from usecases.messaging.idempotency import forget_older_than
from usecases.outbox import sweep_outbox, write_jobs
from usecases.ports import OutboxPolicy, Sender, SessionFactory, WebhookPolicy
from usecases.webhooks.retention import forget_finished_events
from usecases.webhooks.stalls import kick_stalled

log = logging.getLogger(__name__)
IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)


def run_tick(sessions: SessionFactory, sender: Sender, now: datetime,
             webhooks: WebhookPolicy = WebhookPolicy()) -> tuple[int, int, int]:
    """One tick: (jobs republished, deliveries expired, keys forgotten)."""
    wake_stalled_webhooks(sessions, now, webhooks)
    swept = sweep_outbox(sessions, sender, now)
    if swept:
        log.info("outbox sweeper republished %d jobs", swept)
    expired, forgotten = tidy(sessions, now)
    return swept, expired, forgotten


def tidy(sessions: SessionFactory, now: datetime) -> tuple[int, int]:
    """Expire overdue deliveries, forget old Idempotency-Keys and finished
    webhook events past their history."""
    with UnitOfWork(sessions) as uow:
        expired = expire_overdue(uow.session, now)
        forgotten = forget_older_than(uow.session, now - IDEMPOTENCY_KEY_LIFETIME)
        forget_finished_events(uow.session, now)
        uow.commit()
    return expired, forgotten


def wake_stalled_webhooks(sessions: SessionFactory, now: datetime, policy: WebhookPolicy) -> int:
    """A job for every webhook endpoint whose due events nobody works on
    (its job lost, its worker killed mid-send); the sweep publishes them."""
    with UnitOfWork(sessions) as uow:
        specs = kick_stalled(uow.session, now, policy)
        write_jobs(uow.session, specs, now, OutboxPolicy(grace_seconds=0))
        uow.commit()
    if specs:
        log.info("woke %d stalled webhook endpoint(s)", len(specs))
    return len(specs)
