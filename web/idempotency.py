"""The Idempotency-Key header of creating POSTs: claimed and answered inside
the request's own unit of work (usecases.messaging.idempotency), so the stored
answer and the effects commit together or not at all."""

from __future__ import annotations

from datetime import datetime

from flask import request

from usecases.messaging import idempotency
from pipeline.errors import BadRequest
from pipeline.fingerprint import request_fingerprint

REPLAYED = {"Idempotent-Replayed": "true"}


def idempotency_key() -> str | None:
    """The request's key, if any.

    Raises:
        BadRequest: a key that is not 1 to 255 characters.
    """
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 255:
        raise BadRequest("Idempotency-Key must be 1 to 255 characters")
    return key


class IdempotentRequest:
    def __init__(self, session, caller_id: int, body: object, now: datetime):
        self.session, self.caller_id, self.body, self.now = session, caller_id, body, now
        self.key = idempotency_key()

    def replay(self):
        """The stored answer of an earlier request with this key, or None to proceed.

        Raises:
            IdempotencyKeyReused, IdempotencyKeyInFlight.
        """
        if self.key is None:
            return None
        fingerprint = request_fingerprint(request.method, request.path, self.body)
        return idempotency.claim(self.session, caller_id=self.caller_id, key=self.key, fingerprint=fingerprint,
                                 now=self.now)

    def remember(self, status_code: int, answer: dict) -> None:
        if self.key is not None:
            idempotency.record_answer(self.session, caller_id=self.caller_id, key=self.key,
                                      status_code=status_code, response=answer)
