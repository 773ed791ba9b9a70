"""An endpoint's delivery attempts, newest first, a page at a time."""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from db.engine import UnitOfWork
from db.models import WebhookAttempt, WebhookEvent
from pipeline.cursors import decode_cursor, encode_cursor
from pipeline.timestamps import iso
from usecases.ports import Ports
from usecases.webhooks.endpoints import owned_endpoint


def attempts_of(ports: Ports, user_id: int, endpoint_id: int, *, limit: int, cursor: str | None) -> dict:
    """`items` (event, status code, time, duration, error) and `next_cursor`.

    Raises:
        NotFound: not the user's endpoint. BadRequest: a cursor not ours.
    """
    with UnitOfWork(ports.sessions) as uow:
        owned_endpoint(uow.session, user_id, endpoint_id)
        where = [WebhookAttempt.endpoint_id == endpoint_id]
        if cursor:
            at, attempt_id = decode_cursor(cursor)
            where.append(or_(WebhookAttempt.attempted_at < at,
                             and_(WebhookAttempt.attempted_at == at, WebhookAttempt.id < attempt_id)))
        rows = uow.session.execute(
            select(WebhookAttempt, WebhookEvent.public_id, WebhookEvent.kind, WebhookEvent.state)
            .join(WebhookEvent, WebhookEvent.id == WebhookAttempt.event_id).where(*where)
            .order_by(WebhookAttempt.attempted_at.desc(), WebhookAttempt.id.desc()).limit(limit + 1)).all()
        page = rows[:limit]
        items = [{"id": a.id, "event_id": public_id, "event_type": kind, "event_state": state,
                  "status_code": a.status_code, "attempted_at": iso(a.attempted_at),
                  "duration_ms": a.duration_ms, "error": a.error} for a, public_id, kind, state in page]
        more = len(rows) > limit
        last = page[-1][0] if page else None
        return {"items": items, "next_cursor": encode_cursor(last.attempted_at, last.id) if more else None}
