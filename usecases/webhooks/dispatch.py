"""Send one endpoint's pending events, oldest first — the `deliver_webhooks`
job's work.

One dispatcher at a time per endpoint: it takes a lease on the endpoint row
(`lease_until`), so events leave one at a time, oldest first (in the order
their transactions made them visible; D81); a job that finds the lease
taken leaves (the holder looks for more before it lets go, under the row's
lock, so an event committed meanwhile is never stranded). A failing event
holds back the ones after it, for its endpoint only: it gets a next attempt
time from the schedule and an outbox row available then (no long-delayed
broker message); the dispatcher leaves. After the schedule's window the
event is failed and the endpoint disabled with the reason. No transaction
stays open during the POST.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import WebhookAttempt, WebhookEndpoint, WebhookEvent
from pipeline.contract import DELIVER_WEBHOOKS, WEBHOOKS_QUEUE
from pipeline.errors import ValidationFailed
from pipeline.jobs import JobSpec
from pipeline.timestamps import iso
from pipeline.webhook_events import event_body
from pipeline.webhook_retry import WebhookSchedule
from pipeline.webhook_signing import HEADER, signature_header
from pipeline.webhook_urls import check_addresses, check_url
from usecases.outbox import write_jobs
from usecases.ports import Ports, WebhookAnswer, WebhookClient, WebhookPolicy
from usecases.webhooks.status_events import DELIVERED, FAILED, PENDING

# A batch starts its last POST before `timeout` has elapsed, and a POST takes
# at most the connect (≤ 5 s) plus `timeout` for the headers and `timeout`
# for the body: 3 × timeout + 5 s, and a margin. A dispatcher killed
# mid-send frees its endpoint when the lease runs out.
LEASE_MARGIN = timedelta(seconds=10)
BATCH = 100  # events read, and their outcomes written, per transaction
RUN_FOR = timedelta(seconds=60)  # then a job hands over to a fresh one
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class _Event:
    id: int
    public_id: str
    kind: str
    sequence: int
    data: dict
    created_at: datetime
    first_attempt_at: datetime | None
    attempts: int


@dataclass(frozen=True)
class _Batch:
    """A leased endpoint's due events, oldest first, with what sending needs."""

    lease: datetime
    url: str
    secrets: list[str]
    events: list[_Event]


@dataclass(frozen=True)
class _Outcome:
    event: _Event
    answer: WebhookAnswer
    at: datetime


def schedule_of(policy: WebhookPolicy) -> WebhookSchedule:
    return WebhookSchedule(policy.first_delay_seconds, policy.max_delay_seconds, policy.window_seconds)


def dispatch(ports: Ports, client: WebhookClient, endpoint_id: int, clock: Callable[[], datetime]) -> int:
    """Send the endpoint's due events in order until none is left or one
    fails; how many were delivered.

    Events are read BATCH at a time and their outcomes written in one
    transaction per batch (two per batch, not per event); the POSTs stay one
    at a time, each after the previous one's 2xx. A batch stops taking new
    POSTs once the receiver's timeout has elapsed since it began, so the
    lease (3 × timeout + 10 s) outlasts its last POST.

    After RUN_FOR the job hands over to a fresh job of its own (queued
    behind the others), so one busy endpoint does not keep a worker thread
    from the rest, nor run into Dramatiq's time limit.
    """
    delivered = 0
    lease = None
    policy = ports.webhooks
    began = clock()
    while True:
        with UnitOfWork(ports.sessions) as uow:
            batch = _next(uow.session, endpoint_id, lease, clock(), policy)
            uow.commit()
        if batch is None:
            return delivered
        lease = batch.lease
        outcomes = _send_batch(client, endpoint_id, batch, policy, clock)
        with UnitOfWork(ports.sessions) as uow:
            went = _record(uow.session, ports, endpoint_id, lease, outcomes, clock())
            handover = went and clock() - began >= RUN_FOR
            jobs = _hand_over(uow.session, ports, endpoint_id, clock()) if handover else []
            uow.commit()
        delivered += sum(1 for outcome in outcomes if outcome.answer.ok)
        if not went or handover:
            ports.publisher.submit(jobs)
            return delivered


def _hand_over(session: Session, ports: Ports, endpoint_id: int, now: datetime) -> list:
    """Let go of the lease and queue the next job for the endpoint."""
    session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(lease_until=None))
    return write_jobs(session, [JobSpec(WEBHOOKS_QUEUE, DELIVER_WEBHOOKS, (endpoint_id,))], now, ports.outbox)


def _next(session: Session, endpoint_id: int, held: datetime | None, now: datetime,
          policy: WebhookPolicy) -> _Batch | None:
    """Take (or renew) the lease and read the due head events; None — lease
    let go or never taken — when nothing is due or another holds it."""
    lease = now + timedelta(seconds=3 * policy.timeout_seconds) + LEASE_MARGIN
    free = or_(WebhookEndpoint.lease_until.is_(None), WebhookEndpoint.lease_until <= now)
    mine = WebhookEndpoint.lease_until == held if held is not None else free
    endpoint = session.execute(
        update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.enabled, mine)
        .values(lease_until=lease)
        .returning(WebhookEndpoint.url, WebhookEndpoint.secret, WebhookEndpoint.previous_secret,
                   WebhookEndpoint.previous_secret_until)).first()
    if endpoint is None:
        return None
    # Read under the endpoint row's lock: an event committed before a
    # rival job looked at the lease is seen here.
    rows = session.execute(
        select(WebhookEvent.id, WebhookEvent.public_id, WebhookEvent.kind, WebhookEvent.sequence,
               WebhookEvent.data, WebhookEvent.created_at, WebhookEvent.first_attempt_at, WebhookEvent.attempts,
               WebhookEvent.next_attempt_at)
        .where(WebhookEvent.endpoint_id == endpoint_id, WebhookEvent.state == PENDING)
        .order_by(WebhookEvent.id).limit(BATCH)).all()
    events = []
    for row in rows:
        if row.next_attempt_at > now:
            break  # a failed event waits for its time, and holds back the ones after it
        events.append(_Event(*row[:8]))
    if not events:
        session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
                        .values(lease_until=None))
        return None
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        secrets.append(endpoint.previous_secret)
    return _Batch(lease, endpoint.url, secrets, events)


def _send_batch(client: WebhookClient, endpoint_id: int, batch: _Batch, policy: WebhookPolicy,
                clock: Callable[[], datetime]) -> list[_Outcome]:
    """POST the batch's events in order, each signed, until one fails or the
    time is up. The URL is checked and its host resolved once per batch; a
    URL that became unsafe fails the first event, unsent."""
    began = clock()
    try:
        host = check_url(batch.url, policy.allow_http)
        addresses = client.resolve(host)
        check_addresses(host, addresses, policy.allow_private)
    except ValidationFailed as refused:
        return [_Outcome(batch.events[0], WebhookAnswer(None, f"not sent: {refused.detail}", 0), began)]
    outcomes = []
    for event in batch.events:
        now = clock()
        if outcomes and (now - began).total_seconds() >= policy.timeout_seconds:
            break
        body = event_body(event.public_id, event.kind, event.created_at, event.sequence, event.data)
        headers = {"Content-Type": "application/json", "User-Agent": "Herald-Webhooks/1",
                   HEADER: signature_header(batch.secrets, int(now.timestamp()), body),
                   "Herald-Event-Id": event.public_id}
        # The address checked is the one connected to: a DNS answer that
        # changes in between (rebinding) cannot point the POST elsewhere.
        answer = client.post(endpoint_id, batch.url, addresses[0], body, headers, policy.timeout_seconds)
        outcomes.append(_Outcome(event, answer, now))
        if not answer.ok:
            break
    return outcomes


def _record(session: Session, ports: Ports, endpoint_id: int, lease: datetime, outcomes: list[_Outcome],
            now: datetime) -> bool:
    """Write the attempts and their outcomes (a few statements whatever
    their number); True when the dispatcher goes on. Nothing is written if
    the endpoint was deleted meanwhile or the lease was lost (its events
    are another dispatcher's again): the lease is checked, and the row
    locked against a delete, first."""
    held = session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id,
                                                         WebhookEndpoint.lease_until == lease)
                           .values(lease_until=lease).returning(WebhookEndpoint.id)).first()
    if held is None:
        return False
    session.add_all([WebhookAttempt(endpoint_id=endpoint_id, event_id=o.event.id, attempted_at=o.at,
                                    status_code=o.answer.status_code, duration_ms=o.answer.duration_ms,
                                    error=_clip(o.answer.error)) for o in outcomes])
    done = [o.event.id for o in outcomes if o.answer.ok]
    if done:
        session.execute(update(WebhookEvent).where(WebhookEvent.id.in_(done), WebhookEvent.state == PENDING)
                        .values(state=DELIVERED, attempts=WebhookEvent.attempts + 1, finished_at=now,
                                first_attempt_at=func.coalesce(WebhookEvent.first_attempt_at, now),
                                last_error=None))
    failed = outcomes[-1] if outcomes and not outcomes[-1].answer.ok else None
    if failed is None:
        return True
    _record_failure(session, ports, endpoint_id, failed, now)
    return False


def _record_failure(session: Session, ports: Ports, endpoint_id: int, outcome: _Outcome, now: datetime) -> None:
    """Back off (an outbox row available at the next attempt), or give up:
    the event fails and the endpoint is disabled with the reason."""
    event, answer = outcome.event, outcome.answer
    first = event.first_attempt_at or outcome.at
    error = _clip(answer.error or f"answered {answer.status_code}")
    pending = update(WebhookEvent).where(WebhookEvent.id == event.id, WebhookEvent.state == PENDING)
    endpoint = update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    schedule = schedule_of(ports.webhooks)
    if schedule.given_up(first, now):
        session.execute(pending.values(state=FAILED, attempts=event.attempts + 1, first_attempt_at=first,
                                       finished_at=now, last_error=error))
        session.execute(endpoint.values(
            enabled=False, lease_until=None, last_error=error, last_error_at=now, updated_at=now,
            disabled_reason=f"event {event.public_id} failed for {_hours(schedule)} since {iso(first)}: {error}"))
        return
    retry_at = now + schedule.delay(event.attempts + 1, random.uniform(1.0, 1.25))
    session.execute(pending.values(attempts=event.attempts + 1, first_attempt_at=first, next_attempt_at=retry_at,
                                   last_error=error))
    session.execute(endpoint.values(lease_until=None, last_error=error, last_error_at=now))
    write_jobs(session, [JobSpec(WEBHOOKS_QUEUE, DELIVER_WEBHOOKS, (endpoint_id,), available_at=retry_at)],
               now, ports.outbox)


def _clip(text: str | None) -> str | None:
    return None if text is None else text[:MAX_ERROR_CHARS]


def _hours(schedule: WebhookSchedule) -> str:
    hours = schedule.window_seconds / 3600
    return f"{hours:g} h" if hours >= 1 else f"{schedule.window_seconds:g} s"
