"""The Idempotency-Key header of creating POSTs, read at the edge. The use
case claims the key and stores its answer in its own unit of work
(usecases.messaging.idempotency), so answer and effects commit together."""

from __future__ import annotations

from flask import request

from pipeline.errors import BadRequest
from pipeline.fingerprint import request_fingerprint
from usecases.messaging.idempotency import RequestKey

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


def request_key(caller_id: int, body: object) -> RequestKey | None:
    """The caller's key for this request (method, path and body fingerprinted), or None without one.

    Raises:
        BadRequest: a malformed key.
    """
    key = idempotency_key()
    if key is None:
        return None
    return RequestKey(caller_id, key, request_fingerprint(request.method, request.path, body))
