"""Send one endpoint's pending events, oldest first — the `deliver_webhooks`
job's work.

One dispatcher at a time per endpoint: it takes a lease on the endpoint row
(`lease_until`), so events leave in id order; a job that finds the lease
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

from sqlalchemy import or_, select, update
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

# A POST takes at most about twice the timeout (connect, then the answer);
# a dispatcher killed mid-send frees its endpoint when the lease runs out.
LEASE_MARGIN = timedelta(seconds=5)
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class _Step:
    """The head event of a leased endpoint, with what sending it needs."""

    lease: datetime
    url: str
    secrets: list[str]
    event_id: int
    public_id: str
    kind: str
    sequence: int
    data: dict
    created_at: datetime
    first_attempt_at: datetime | None
    attempts: int


def schedule_of(policy: WebhookPolicy) -> WebhookSchedule:
    return WebhookSchedule(policy.first_delay_seconds, policy.max_delay_seconds, policy.window_seconds)


def dispatch(ports: Ports, client: WebhookClient, endpoint_id: int, clock: Callable[[], datetime]) -> int:
    """Send the endpoint's due events in order until none is left or one
    fails; how many were delivered."""
    delivered = 0
    lease = None
    while True:
        with UnitOfWork(ports.sessions) as uow:
            step = _next(uow.session, endpoint_id, lease, clock(), ports.webhooks)
            uow.commit()
        if step is None:
            return delivered
        lease = step.lease
        answer = _send(client, endpoint_id, step, ports.webhooks, clock())
        with UnitOfWork(ports.sessions) as uow:
            went = _record(uow.session, ports, endpoint_id, step, answer, clock())
            uow.commit()
        if not went:
            return delivered
        delivered += 1


def _next(session: Session, endpoint_id: int, held: datetime | None, now: datetime,
          policy: WebhookPolicy) -> _Step | None:
    """Take (or renew) the lease and read the head event; None — lease let
    go or never taken — when there is nothing due or another holds it."""
    lease = now + timedelta(seconds=2 * policy.timeout_seconds) + LEASE_MARGIN
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
    head = session.execute(
        select(WebhookEvent).where(WebhookEvent.endpoint_id == endpoint_id, WebhookEvent.state == PENDING)
        .order_by(WebhookEvent.id).limit(1)).scalar_one_or_none()
    if head is None or head.next_attempt_at > now:
        session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
                        .values(lease_until=None))
        return None
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        secrets.append(endpoint.previous_secret)
    return _Step(lease, endpoint.url, secrets, head.id, head.public_id, head.kind, head.sequence, head.data,
                 head.created_at, head.first_attempt_at, head.attempts)


def _send(client: WebhookClient, endpoint_id: int, step: _Step, policy: WebhookPolicy,
          now: datetime) -> WebhookAnswer:
    """POST the event, signed; a URL that became unsafe is an error, not sent."""
    try:
        host = check_url(step.url, policy.allow_http)
        addresses = client.resolve(host)
        check_addresses(host, addresses, policy.allow_private)
    except ValidationFailed as refused:
        return WebhookAnswer(None, f"not sent: {refused.detail}", 0)
    body = event_body(step.public_id, step.kind, step.created_at, step.sequence, step.data)
    stamp = int(now.timestamp())
    headers = {"Content-Type": "application/json", "User-Agent": "Herald-Webhooks/1",
               HEADER: signature_header(step.secrets, stamp, body), "Herald-Event-Id": step.public_id}
    # The address checked is the one connected to: a DNS answer that changes
    # in between (rebinding) cannot point the POST somewhere else.
    return client.post(endpoint_id, step.url, addresses[0], body, headers, policy.timeout_seconds)


def _record(session: Session, ports: Ports, endpoint_id: int, step: _Step, answer: WebhookAnswer,
            now: datetime) -> bool:
    """Write the attempt and its outcome; True when the dispatcher goes on."""
    session.add(WebhookAttempt(endpoint_id=endpoint_id, event_id=step.event_id, attempted_at=now,
                               status_code=answer.status_code, duration_ms=answer.duration_ms,
                               error=_clip(answer.error)))
    first = step.first_attempt_at or now
    event = update(WebhookEvent).where(WebhookEvent.id == step.event_id, WebhookEvent.state == PENDING)
    if answer.ok:
        session.execute(event.values(state=DELIVERED, attempts=step.attempts + 1, first_attempt_at=first,
                                     finished_at=now, last_error=None))
        return True
    error = _clip(answer.error or f"answered {answer.status_code}")
    endpoint = update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    schedule = schedule_of(ports.webhooks)
    if schedule.given_up(first, now):
        session.execute(event.values(state=FAILED, attempts=step.attempts + 1, first_attempt_at=first,
                                     finished_at=now, last_error=error))
        session.execute(endpoint.values(
            enabled=False, lease_until=None, last_error=error, last_error_at=now, updated_at=now,
            disabled_reason=f"event {step.public_id} failed for {_hours(schedule)} since {iso(first)}: {error}"))
        return False
    retry_at = now + schedule.delay(step.attempts + 1, random.uniform(1.0, 1.25))
    session.execute(event.values(attempts=step.attempts + 1, first_attempt_at=first, next_attempt_at=retry_at,
                                 last_error=error))
    session.execute(endpoint.values(lease_until=None, last_error=error, last_error_at=now))
    write_jobs(session, [JobSpec(WEBHOOKS_QUEUE, DELIVER_WEBHOOKS, (endpoint_id,), available_at=retry_at)],
               now, ports.outbox)
    return False


def kick_stalled(session: Session, now: datetime, policy: WebhookPolicy) -> list[JobSpec]:
    """Endpoints whose head event has been due for `stall_seconds` and that no
    dispatcher holds (a lost job, a worker killed mid-send): a job for each,
    and their lease stamped so the next kick waits as long again."""
    stall = now - timedelta(seconds=policy.stall_seconds)
    stalled = sorted(set(session.scalars(
        select(WebhookEvent.endpoint_id).join(WebhookEndpoint, WebhookEndpoint.id == WebhookEvent.endpoint_id)
        .where(WebhookEvent.state == PENDING, WebhookEvent.next_attempt_at <= stall, WebhookEndpoint.enabled,
               or_(WebhookEndpoint.lease_until.is_(None), WebhookEndpoint.lease_until <= stall))
        .distinct())))
    if not stalled:
        return []
    session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id.in_(stalled)).values(lease_until=now))
    return [JobSpec(WEBHOOKS_QUEUE, DELIVER_WEBHOOKS, (endpoint_id,)) for endpoint_id in stalled]


def _clip(text: str | None) -> str | None:
    return None if text is None else text[:MAX_ERROR_CHARS]


def _hours(schedule: WebhookSchedule) -> str:
    hours = schedule.window_seconds / 3600
    return f"{hours:g} h" if hours >= 1 else f"{schedule.window_seconds:g} s"
