"""Dead-letter actions for operators at the `herald` command. They act as
the system actor: audit entries have no actor id and say via "cli".

Requeues insert outbox rows only (available at once); a worker's outbox
sweeper publishes them — this process holds no broker connection.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from config import load_settings
from usecases.operations import dead_letter_admin as admin
from usecases.operations.dead_letter_admin import AdminAction
from usecases.operations.dead_letter_search import LetterFilter, letter_summary, list_page
from cli.database import existing_sessions
from db.engine import UnitOfWork

VIA = "cli"
BATCH = 1000


def list_letters(*, queue: str | None, reason: str | None, state: str, limit: int) -> list[str]:
    """JSON lines, newest first."""
    letter_filter = LetterFilter(queue=queue, reason=reason, state=None if state == "any" else state)
    with UnitOfWork(_sessions()) as uow:
        page = list_page(uow.session, letter_filter, now=_now(), limit=max(1, limit))
        return [json.dumps(letter_summary(letter)) for letter in page.letters]


def requeue(ids: list[int], *, queue: str | None, reason: str | None) -> str:
    """Requeue the given ids, or every dead letter matching the filter (in batches)."""
    sessions = _sessions()
    if ids:
        with UnitOfWork(sessions) as uow:
            bulk = admin.requeue_ids(uow.session, ids, _system())
            uow.commit()
        return json.dumps({"requeued": bulk.requeued_ids, "skipped": sorted(set(ids) - set(bulk.requeued_ids))})
    requeued: list[int] = []
    while True:
        with UnitOfWork(sessions) as uow:
            bulk = admin.requeue_matching(uow.session, LetterFilter(queue=queue, reason=reason), _system(),
                                          limit=BATCH)
            uow.commit()
        requeued += bulk.requeued_ids
        if not bulk.truncated:
            return json.dumps({"requeued": requeued, "skipped": []})


def discard(ids: list[int]) -> str:
    with UnitOfWork(_sessions()) as uow:
        discarded = admin.discard_ids(uow.session, ids, _system())
        uow.commit()
    return json.dumps({"discarded": discarded, "skipped": sorted(set(ids) - set(discarded))})


def _system() -> AdminAction:
    return AdminAction(actor_id=None, via=VIA, now=_now())


def _sessions():
    return existing_sessions(load_settings().database_url)


def _now() -> datetime:
    return datetime.now(timezone.utc)
