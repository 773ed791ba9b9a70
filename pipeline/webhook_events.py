"""Webhook events as a receiver sees them: types, the status sequence, the body.

A `message.status` event carries `sequence`, a number per (message,
recipient) that grows with every status change, so a receiver can drop
stale or repeated events. It is the status's rank in the forward-only chain
(pipeline.status), plus ten per time an admin requeued the delivery after a
dead letter (the one backward move, D19): a requeued delivery's new `sent`
outranks its `failed`.
"""

from __future__ import annotations

import json
from datetime import datetime

from pipeline import status
from pipeline.timestamps import iso

MESSAGE_STATUS = "message.status"
MESSAGE_REPLY = "message.reply"
CONVERSATION_MESSAGE = "conversation.message"
PING = "ping"
SUBSCRIBABLE = (MESSAGE_STATUS, MESSAGE_REPLY, CONVERSATION_MESSAGE)

# The statuses a webhook reports: what happens after the `202 accepted`
# (accepted and queued are the sender's own answer and the broker's business).
_RANK = {status.SENT: 1, status.DELIVERED: 2, status.READ: 3, status.FAILED: 4, status.EXPIRED: 4}
REPORTED = tuple(_RANK)
_GENERATION = 10


def status_sequence(new_status: str, requeues: int = 0) -> int:
    """The `sequence` of a status event for one (message, recipient)."""
    return requeues * _GENERATION + _RANK[new_status]


def reached(new_status: str, skipped_delivered: bool) -> list[str]:
    """The statuses to report for one change, in order: a `read` that
    skipped `delivered` (read marker before the ack) reports both."""
    if new_status == status.READ and skipped_delivered:
        return [status.DELIVERED, status.READ]
    return [new_status]


def status_data(message_id: int, recipient_id: int, phone: str | None, new_status: str, at: datetime) -> dict:
    """The `data` of a `message.status` event."""
    return {"message_id": message_id, "recipient": {"user_id": recipient_id, "phone": phone},
            "status": new_status, "at": iso(at)}


def event_body(public_id: str, kind: str, created_at: datetime, sequence: int, data: dict) -> bytes:
    """The exact bytes sent (and signed): compact JSON, keys in a fixed order."""
    return json.dumps({"id": public_id, "type": kind, "created_at": iso(created_at), "sequence": sequence,
                       "data": data}, separators=(",", ":")).encode()
