"""Events an endpoint's owner queues by hand: a `ping`, and a redelivery of
a finished event with its id — behind the endpoint's pending ones, each in
one unit of work with the job that wakes the dispatcher and its audit entry."""

from __future__ import annotations

from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import WebhookEvent
from pipeline.errors import Conflict, NotFound
from pipeline.webhook_events import PING
from usecases.operations.audit import Actor
from usecases.ports import Ports
from usecases.webhooks.endpoints import audit_endpoint, event_view, now_utc, owned_endpoint
from usecases.webhooks.status_events import PENDING, new_event_id, wake_jobs


class EventPending(Conflict):
    code = "webhook_event_pending"
    title = "The event is still being delivered"


def send_ping(ports: Ports, actor: Actor, endpoint_id: int) -> dict:
    """Queue a `ping` event behind the endpoint's others; the event as queued.

    Raises: NotFound.
    """
    now = now_utc()
    with UnitOfWork(ports.sessions) as uow:
        endpoint = owned_endpoint(uow.session, actor.user_id, endpoint_id)
        event = WebhookEvent(endpoint_id=endpoint.id, public_id=new_event_id(), kind=PING, sequence=0,
                             data={"endpoint_id": endpoint.id, "url": endpoint.url}, state=PENDING, attempts=0,
                             created_at=now, next_attempt_at=now)
        uow.session.add(event)
        uow.session.flush()
        jobs = wake_jobs(uow.session, [endpoint.id], now, ports.outbox)
        audit_endpoint(uow.session, actor, "webhook.ping", endpoint, now, event_id=event.public_id)
        view = event_view(event)
        uow.commit()
    ports.publisher.submit(jobs)
    return view


def redeliver(ports: Ports, actor: Actor, endpoint_id: int, public_id: str) -> dict:
    """Send an event again, with its id, after the endpoint's pending ones.

    Raises:
        NotFound: not the user's endpoint, or no such event there.
        EventPending: the event has not finished its own delivery.
    """
    now = now_utc()
    with UnitOfWork(ports.sessions) as uow:
        endpoint = owned_endpoint(uow.session, actor.user_id, endpoint_id)
        rows = uow.session.scalars(select(WebhookEvent).where(WebhookEvent.endpoint_id == endpoint.id,
                                                              WebhookEvent.public_id == public_id)
                                   .order_by(WebhookEvent.id)).all()
        if not rows:
            raise NotFound(f"no event {public_id} for this endpoint")
        if any(row.state == PENDING for row in rows):
            raise EventPending(f"event {public_id} is still pending")
        first = rows[0]
        copy = WebhookEvent(endpoint_id=endpoint.id, public_id=first.public_id, kind=first.kind,
                            sequence=first.sequence, data=first.data, state=PENDING, attempts=0,
                            created_at=first.created_at, next_attempt_at=now)
        uow.session.add(copy)
        uow.session.flush()
        jobs = wake_jobs(uow.session, [endpoint.id], now, ports.outbox)
        audit_endpoint(uow.session, actor, "webhook.redeliver", endpoint, now, event_id=copy.public_id,
                       event_type=copy.kind)
        view = event_view(copy)
        uow.commit()
    ports.publisher.submit(jobs)
    return view
