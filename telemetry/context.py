"""The log context: fields every log line of the current request or job
carries, and the ids that travel with a job (docs/operations.md, "Logs
and traces").

A context variable, so each request greenlet and each worker thread has its
own. The web edge binds `request_id` (and a W3C `traceparent`) per request,
the worker binds what the job brought along; `usecases.outbox.write_jobs`
reads `job_trace()` to store them with every job it writes.
"""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Iterator, Mapping

# Kept in the context for jobs, never printed: its trace id is (`trace_id`).
TRACEPARENT = "traceparent"
_EMPTY: Mapping[str, object] = {}
_fields: ContextVar[Mapping[str, object]] = ContextVar("herald_log_context", default=_EMPTY)

# A client's X-Request-ID is taken when it is short and plain (it is printed
# in logs and stored with jobs); anything else is replaced by a new id.
MAX_REQUEST_ID = 128
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,%d}" % MAX_REQUEST_ID)
# W3C Trace Context, version 00: version-traceid-parentid-flags, lower-case hex.
_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


def current() -> Mapping[str, object]:
    """The fields bound now (read-only)."""
    return _fields.get()


def bind(**fields: object) -> Token:
    """Add `fields` (None values are left out) for the rest of this request
    or job; returns the token `unbind` takes. A `traceparent` also binds
    its `trace_id`."""
    merged = dict(_fields.get())
    merged.update((key, value) for key, value in fields.items() if value is not None)
    if fields.get(TRACEPARENT):
        merged["trace_id"] = trace_id_of(str(fields[TRACEPARENT]))
    return _fields.set(merged)


def unbind(token: Token) -> None:
    _fields.reset(token)


def clear() -> None:
    """Start afresh (a new request on a kept-alive connection's greenlet)."""
    _fields.set(_EMPTY)


@contextmanager
def bound(**fields: object) -> Iterator[None]:
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


def job_trace() -> tuple[str | None, str | None]:
    """(request_id, traceparent) for a job written now."""
    fields = _fields.get()
    return fields.get("request_id"), fields.get(TRACEPARENT)  # type: ignore[return-value]


def request_id_from(header: str | None) -> str:
    """The client's X-Request-ID when it is acceptable, else a new id."""
    if header and _REQUEST_ID.fullmatch(header):
        return header
    return new_request_id()


def new_request_id() -> str:
    return uuid.uuid4().hex


def valid_traceparent(header: str | None) -> str | None:
    """A W3C traceparent header as sent, or None when it is not one (all-zero ids are invalid)."""
    if not header:
        return None
    match = _TRACEPARENT.fullmatch(header.strip())
    if match is None or set(match.group(1)) == {"0"} or set(match.group(2)) == {"0"}:
        return None
    return match.group(0)


def trace_id_of(traceparent: str) -> str | None:
    match = _TRACEPARENT.fullmatch(traceparent)
    return match.group(1) if match else None
