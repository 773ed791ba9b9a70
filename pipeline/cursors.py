"""Opaque list cursors: the sort key of the last row a page showed.

A cursor is base64 of JSON `[created_at ISO-8601, id]`; clients pass it
back unchanged and must not build their own.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone

from pipeline.errors import BadRequest


def encode_cursor(created_at: datetime, row_id: int) -> str:
    raw = json.dumps([created_at.isoformat(), row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (created_at, id) a cursor stands for.

    Raises:
        BadRequest: the cursor was not made by `encode_cursor`.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, row_id = json.loads(raw)
        if not isinstance(row_id, int) or isinstance(row_id, bool):
            raise ValueError("id")
        at = datetime.fromisoformat(created_at)
        # Cursors the embedded mode issued before its times were aware are UTC.
        return (at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)), row_id
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise BadRequest("the cursor is not valid; pass back the next_cursor of a previous page") from None
