"""Column types shared by every table."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator):
    """A moment in UTC, aware on the way in and on the way out, on every backend.

    PostgreSQL stores `timestamptz` and answers in the session's time zone;
    SQLite has no time zones: SQLAlchemy writes the wall-clock digits and
    drops the offset, and reads back naive datetimes, which Python refuses
    to compare with aware ones (a TypeError that once failed every delivery
    of a recipient behind a message with a ttl). So values are converted to
    UTC before they are stored and come back aware UTC, whatever the backend.
    The DDL is DateTime(timezone=True) as before: no migration.

    Raises:
        ValueError: a naive datetime is bound (a caller forgot its time zone).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a timestamp needs a time zone (UTC), got {value!r}")
        value = value.astimezone(timezone.utc)
        # SQLite's DATETIME would write the digits of any zone; UTC digits, then.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        # What SQLite stored naive was written in UTC by process_bind_param.
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
