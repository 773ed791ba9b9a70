"""A job's failures as the dead-letter middleware notes them in the job's
Dramatiq options while it is retried: how many, the first and the last.

The record travels with the job through RabbitMQ's delay queue, so it
survives a worker restart between attempts. Texts are bounded: a job's
options are re-sent with every retry.
"""

from __future__ import annotations

TRACEBACK_LIMIT = 4096
REPR_LIMIT = 1024


def error_text(error_repr: str, traceback_text: str) -> str:
    """The exception's repr, then the last 4 KB of its traceback."""
    head = error_repr if len(error_repr) <= REPR_LIMIT else error_repr[:REPR_LIMIT] + "…"
    tail = traceback_text.rstrip()
    if len(tail) > TRACEBACK_LIMIT:
        # The end of a traceback names the failing line; its start is the least useful.
        tail = "…" + tail[-TRACEBACK_LIMIT:]
    return f"{head}\n\n{tail}" if tail else head


def note_failure(record: dict | None, *, reason: str, text: str, at_ms: int) -> dict:
    """The failure record after one more failed attempt (a new dict)."""
    noted = dict(record or {})
    noted.setdefault("first_error", text)
    noted.setdefault("first_failed_at_ms", at_ms)
    noted.update(attempts=noted.get("attempts", 0) + 1, reason=reason, last_error=text,
                 last_failed_at_ms=at_ms)
    return noted
