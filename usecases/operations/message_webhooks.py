"""The webhook part of a message's story: the `message.status` events
written for a one-way message to its sender's endpoints, and each one's
delivery attempts — "did the business's server hear about it?".

Three bounded statements, each on an index, none scanning the event table:
the sender's endpoints (by user id, at most MAX_ENDPOINTS); the events by
their exact dedup keys (the unique (endpoint_id, dedup_key) index: a
status event's key is its message, recipient and sequence, and the
possible sequences per recipient are known from the delivery's requeues),
plus the redelivered copies by (endpoint_id, public_id); the attempts by
event id, the latest ATTEMPTS_PER_EVENT of each.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import WebhookAttempt, WebhookEndpoint, WebhookEvent
from pipeline.timestamps import iso
from pipeline.webhook_events import MESSAGE_STATUS, REPORTED, status_sequence
from usecases.webhooks.endpoints import url_host
from usecases.webhooks.status_events import status_dedup_key

EVENTS = 400  # event rows shown (RECIPIENTS recipients × a few statuses)
ATTEMPTS_PER_EVENT = 10  # the latest ones; the event row counts them all


def message_webhooks(session: Session, message_id: int, sender_id: int, requeues: dict[int, int]) -> dict | None:
    """None when the sender has no endpoint; else its endpoints and the
    events for the recipients in `requeues` (recipient id → how often an
    admin requeued their delivery), in the order they were written."""
    endpoints = session.execute(select(WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.enabled,
                                       WebhookEndpoint.events)
                                .where(WebhookEndpoint.user_id == sender_id).order_by(WebhookEndpoint.id)).all()
    if not endpoints:
        return None
    ids = [e.id for e in endpoints]
    events = _events(session, ids, message_id, requeues)
    attempts = _attempts(session, [event.id for event in events])
    return {"endpoints": [{"id": e.id, "host": url_host(e.url), "enabled": e.enabled,
                           "subscribed": MESSAGE_STATUS in e.events} for e in endpoints],
            "events": [_event_view(event, attempts.get(event.id, [])) for event in events],
            "limited": len(events) >= EVENTS}


def _events(session: Session, endpoint_ids: list[int], message_id: int, requeues: dict[int, int]) -> list:
    keys = sorted({status_dedup_key(message_id, recipient, status_sequence(step, generation))
                   for recipient, times in requeues.items() for generation in range(times + 1)
                   for step in REPORTED})
    if not keys:
        return []
    written = list(session.scalars(select(WebhookEvent)
                                   .where(WebhookEvent.endpoint_id.in_(endpoint_ids),
                                          WebhookEvent.dedup_key.in_(keys))
                                   .order_by(WebhookEvent.id).limit(EVENTS)))
    if not written:
        return []
    # A redelivery is a new row with the same public id and no dedup key.
    copies = session.scalars(select(WebhookEvent)
                             .where(WebhookEvent.endpoint_id.in_(endpoint_ids),
                                    WebhookEvent.public_id.in_([e.public_id for e in written]),
                                    WebhookEvent.dedup_key.is_(None))
                             .order_by(WebhookEvent.id).limit(EVENTS))
    return sorted([*written, *copies], key=lambda e: e.id)[:EVENTS]


def _attempts(session: Session, event_ids: list[int]) -> dict[int, list[dict]]:
    if not event_ids:
        return {}
    newest = func.row_number().over(partition_by=WebhookAttempt.event_id,
                                    order_by=WebhookAttempt.id.desc()).label("newest")
    ranked = (select(WebhookAttempt.id, WebhookAttempt.event_id, WebhookAttempt.attempted_at,
                     WebhookAttempt.status_code, WebhookAttempt.duration_ms, WebhookAttempt.error, newest)
              .where(WebhookAttempt.event_id.in_(event_ids)).subquery())
    found: dict[int, list[dict]] = {}
    for row in session.execute(select(ranked).where(ranked.c.newest <= ATTEMPTS_PER_EVENT)
                               .order_by(ranked.c.event_id, ranked.c.id)):
        found.setdefault(row.event_id, []).append({
            "at": iso(row.attempted_at), "status_code": row.status_code, "duration_ms": row.duration_ms,
            "error": row.error})
    return found


def _event_view(event: WebhookEvent, attempts: list[dict]) -> dict:
    data = event.data or {}
    recipient = data.get("recipient") or {}
    return {"id": event.public_id, "endpoint_id": event.endpoint_id, "redelivery": event.dedup_key is None,
            "recipient_id": recipient.get("user_id"), "phone": recipient.get("phone"), "status": data.get("status"),
            "sequence": event.sequence, "state": event.state, "attempt_count": event.attempts,
            "created_at": iso(event.created_at), "finished_at": iso(event.finished_at),
            "last_error": event.last_error, "attempts": attempts}
