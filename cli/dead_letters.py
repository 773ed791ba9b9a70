"""Dead-letter actions for operators at the `herald` command. They act as
the system actor: audit entries have no actor id and say via "cli".

Requeues insert outbox rows only (available at once); a worker's outbox
sweeper publishes them — this process holds no broker connection.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from cli.database import existing_sessions
from config import load_settings
from usecases.operations import dead_letter_batches as batches
from usecases.operations.dead_letter_admin import AdminAction
from usecases.operations.dead_letter_search import LetterFilter

VIA = "cli"


def list_letters(*, queue: str | None, reason: str | None, state: str, limit: int) -> list[str]:
    """JSON lines, newest first."""
    letter_filter = LetterFilter(queue=queue, reason=reason, state=None if state == "any" else state)
    return [json.dumps(summary) for summary in batches.summaries(_sessions(), letter_filter, _now(), limit)]


def requeue(ids: list[int], *, queue: str | None, reason: str | None) -> str:
    """Requeue the given ids, or every dead letter matching the filter (in batches)."""
    if ids:
        requeued = batches.requeue_ids(_sessions(), ids, _system())
        return json.dumps({"requeued": requeued, "skipped": sorted(set(ids) - set(requeued))})
    requeued = batches.requeue_all_matching(_sessions(), LetterFilter(queue=queue, reason=reason), _system())
    return json.dumps({"requeued": requeued, "skipped": []})


def discard(ids: list[int]) -> str:
    discarded = batches.discard_ids(_sessions(), ids, _system())
    return json.dumps({"discarded": discarded, "skipped": sorted(set(ids) - set(discarded))})


def _system() -> AdminAction:
    return AdminAction(actor_id=None, via=VIA, now=_now())


def _sessions():
    return existing_sessions(load_settings().database_url)


def _now() -> datetime:
    return datetime.now(timezone.utc)
