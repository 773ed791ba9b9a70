"""Scheduled sends and expiry: when a message may go, and until when."""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.errors import ValidationFailed

MAX_SCHEDULE_AHEAD = timedelta(days=30)
MAX_TTL_SECONDS = 30 * 86400


def check_schedule(now: datetime, send_at: datetime | None, ttl_seconds: int | None) -> None:
    """Refuse schedules that cannot be honoured.

    Raises:
        ValidationFailed: a naive or past-the-horizon `send_at`, or a ttl out of range.
    """
    if send_at is not None:
        if send_at.tzinfo is None:
            raise ValidationFailed("send_at needs a timezone, e.g. 2026-12-01T09:00:00Z")
        if send_at > now + MAX_SCHEDULE_AHEAD:
            raise ValidationFailed("send_at may be at most 30 days ahead")
    if ttl_seconds is not None and not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise ValidationFailed(f"ttl_seconds must be between 1 and {MAX_TTL_SECONDS}")


def due_at(now: datetime, send_at: datetime | None) -> datetime:
    """When delivery may start: now, or the scheduled time if it is later."""
    return send_at if send_at is not None and send_at > now else now


def expires_at(now: datetime, send_at: datetime | None, ttl_seconds: int | None) -> datetime | None:
    """The moment an undelivered message expires; the ttl runs from when it is due."""
    if ttl_seconds is None:
        return None
    return due_at(now, send_at) + timedelta(seconds=ttl_seconds)


def is_scheduled(now: datetime, send_at: datetime | None) -> bool:
    return due_at(now, send_at) > now


def is_expired(expiry: datetime | None, now: datetime) -> bool:
    return expiry is not None and expiry <= now
