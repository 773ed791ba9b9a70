"""A business user's webhook endpoints as the API manages them, each call
one unit of work. Only the owner reaches an endpoint: anyone else's is
404, as if absent (promise 7). Every change is audited in its own
transaction (`webhook.*`): which fields changed, the URL's host only —
never the secret, nor a path or query that may carry a credential."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from typing import Callable
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import WebhookAttempt, WebhookEndpoint, WebhookEvent
from pipeline.errors import NotFound, ValidationFailed
from pipeline.timestamps import iso
from pipeline.webhook_urls import check_addresses, check_url
from usecases.operations.audit import Actor, audit
from usecases.ports import Ports
from usecases.webhooks.status_events import PENDING, wake_jobs

MAX_ENDPOINTS = 16
Resolver = Callable[[str], list[str]]


class TooManyEndpoints(ValidationFailed):
    code = "too_many_webhook_endpoints"
    title = "Too many webhook endpoints"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def create(ports: Ports, resolve: Resolver, actor: Actor, url: str, events: list[str],
           description: str | None) -> dict:
    """The new endpoint, with its secret (shown this once).

    Raises:
        WebhookUrlRefused: not https (unless allowed) or a private address.
        TooManyEndpoints: the user has MAX_ENDPOINTS already.
    """
    _check_target(ports, resolve, url)
    now, user_id = now_utc(), actor.user_id
    with UnitOfWork(ports.sessions) as uow:
        count = uow.session.scalar(select(func.count()).where(WebhookEndpoint.user_id == user_id))
        if count >= MAX_ENDPOINTS:
            raise TooManyEndpoints(f"at most {MAX_ENDPOINTS} webhook endpoints per user")
        endpoint = WebhookEndpoint(user_id=user_id, url=url, events=sorted(set(events)), description=description,
                                   secret=new_secret(), enabled=True, created_at=now, updated_at=now)
        uow.session.add(endpoint)
        uow.session.flush()
        audit_endpoint(uow.session, actor, "webhook.create", endpoint, now, host=url_host(url),
                       events=list(endpoint.events))
        view = {**_view(uow.session, endpoint), "secret": endpoint.secret}
        uow.commit()
    return view


def list_own(ports: Ports, user_id: int) -> dict:
    with UnitOfWork(ports.sessions) as uow:
        endpoints = uow.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.user_id == user_id)
                                        .order_by(WebhookEndpoint.id)).all()
        return {"items": [_view(uow.session, e) for e in endpoints]}


def show(ports: Ports, user_id: int, endpoint_id: int) -> dict:
    """Raises: NotFound: not the user's endpoint."""
    with UnitOfWork(ports.sessions) as uow:
        return _view(uow.session, owned_endpoint(uow.session, user_id, endpoint_id))


def change(ports: Ports, resolve: Resolver, actor: Actor, endpoint_id: int, changes: dict) -> dict:
    """Apply `changes` (url, events, description, enabled); enabling again
    clears the reason and wakes the endpoint's dispatcher.

    Raises:
        NotFound, WebhookUrlRefused.
    """
    if "url" in changes:
        _check_target(ports, resolve, changes["url"])
    now = now_utc()
    jobs = []
    with UnitOfWork(ports.sessions) as uow:
        endpoint = owned_endpoint(uow.session, actor.user_id, endpoint_id, lock=True)
        for name in ("url", "description"):
            if name in changes:
                setattr(endpoint, name, changes[name])
        if "events" in changes:
            endpoint.events = sorted(set(changes["events"]))
        if changes.get("enabled") is True and not endpoint.enabled:
            endpoint.enabled, endpoint.disabled_reason, endpoint.lease_until = True, None, None
            jobs = wake_jobs(uow.session, [endpoint.id], now, ports.outbox)
        elif changes.get("enabled") is False:
            endpoint.enabled, endpoint.disabled_reason = False, "disabled by its owner"
        endpoint.updated_at = now
        uow.session.flush()
        audit_endpoint(uow.session, actor, "webhook.update", endpoint, now, **_changed(endpoint, changes))
        view = _view(uow.session, endpoint)
        uow.commit()
    ports.publisher.submit(jobs)
    return view


def remove(ports: Ports, actor: Actor, endpoint_id: int) -> None:
    """Raises: NotFound."""
    with UnitOfWork(ports.sessions) as uow:
        endpoint = owned_endpoint(uow.session, actor.user_id, endpoint_id, lock=True)
        audit_endpoint(uow.session, actor, "webhook.delete", endpoint, now_utc(), host=url_host(endpoint.url))
        # Explicit: SQLite enforces no ON DELETE CASCADE without its pragma.
        uow.session.execute(delete(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint.id))
        uow.session.execute(delete(WebhookEvent).where(WebhookEvent.endpoint_id == endpoint.id))
        uow.session.delete(endpoint)
        uow.commit()


def rotate(ports: Ports, actor: Actor, endpoint_id: int) -> dict:
    """A new secret (shown once); the old one signs alongside it for the overlap.

    Raises: NotFound.
    """
    now = now_utc()
    with UnitOfWork(ports.sessions) as uow:
        endpoint = owned_endpoint(uow.session, actor.user_id, endpoint_id, lock=True)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_until = now + timedelta(seconds=ports.webhooks.rotation_overlap_seconds)
        endpoint.secret = new_secret()
        endpoint.updated_at = now
        uow.session.flush()
        audit_endpoint(uow.session, actor, "webhook.secret_rotate", endpoint, now,
                       previous_valid_until=iso(endpoint.previous_secret_until))
        view = {**_view(uow.session, endpoint), "secret": endpoint.secret}
        uow.commit()
    return view


def audit_endpoint(session: Session, actor: Actor, action: str, endpoint: WebhookEndpoint, now: datetime,
                   **details) -> None:
    audit(session, actor_id=actor.user_id, action=action, target_type="webhook_endpoint", target_id=endpoint.id,
          details=actor.details(**details), now=now)


def _changed(endpoint: WebhookEndpoint, changes: dict) -> dict:
    """What an update's entry says: the fields named, and the new values of
    those that carry no credential (a URL is recorded by its host)."""
    said: dict = {"fields": sorted(changes)}
    if "url" in changes:
        said["host"] = url_host(endpoint.url)
    if "events" in changes:
        said["events"] = list(endpoint.events)
    if "enabled" in changes:
        said["enabled"] = endpoint.enabled
    return said


def url_host(url: str) -> str | None:
    """The host (and port) of a URL: what an audit entry or a page may show of it."""
    parsed = urlsplit(url)
    return parsed.hostname if parsed.port is None else f"{parsed.hostname}:{parsed.port}"


def _check_target(ports: Ports, resolve: Resolver, url: str) -> None:
    host = check_url(url, ports.webhooks.allow_http)
    check_addresses(host, resolve(host), ports.webhooks.allow_private)


def owned_endpoint(session: Session, user_id: int, endpoint_id: int, lock: bool = False) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.user_id == user_id)
    endpoint = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return endpoint


def _view(session: Session, endpoint: WebhookEndpoint) -> dict:
    """The endpoint as its owner sees it (never its secret)."""
    oldest = session.scalars(select(WebhookEvent).where(WebhookEvent.endpoint_id == endpoint.id,
                                                        WebhookEvent.state == PENDING)
                             .order_by(WebhookEvent.id).limit(1)).one_or_none()
    rotating = endpoint.previous_secret_until if endpoint.previous_secret else None
    return {"id": endpoint.id, "url": endpoint.url, "description": endpoint.description,
            "events": list(endpoint.events), "enabled": endpoint.enabled,
            "disabled_reason": endpoint.disabled_reason, "last_error": endpoint.last_error,
            "last_error_at": iso(endpoint.last_error_at),
            "oldest_pending_event": event_view(oldest) if oldest is not None else None,
            "previous_secret_expires_at": iso(rotating) if rotating and rotating > now_utc() else None,
            "created_at": iso(endpoint.created_at), "updated_at": iso(endpoint.updated_at)}


def event_view(event: WebhookEvent) -> dict:
    return {"id": event.public_id, "type": event.kind, "sequence": event.sequence, "state": event.state,
            "created_at": iso(event.created_at), "attempts": event.attempts,
            "next_attempt_at": iso(event.next_attempt_at) if event.state == PENDING else None,
            "last_error": event.last_error}


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
