"""How a moment is written in JSON answers and frames: ISO 8601 with its offset."""

from __future__ import annotations

from datetime import datetime


def iso(value: datetime | None) -> str | None:
    """`value` as ISO 8601 with its UTC offset (None stays None).

    Raises:
        ValueError: a naive datetime: without an offset a client cannot tell which moment it is.
    """
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"a timestamp needs a time zone to be written, got {value!r}")
    return value.isoformat()
