"""Dead letters as an operator handles them at the `herald dlq` command: no
publisher in that process, so requeued jobs wait in the outbox (a grace of
0) and the workers' sweeper publishes them."""

from __future__ import annotations

from datetime import datetime

from db.engine import UnitOfWork
from usecases.operations import dead_letter_admin as admin
from usecases.operations.dead_letter_admin import AdminAction
from usecases.operations.dead_letter_search import LetterFilter, letter_summary, list_page
from usecases.ports import SessionFactory


def summaries(sessions: SessionFactory, letter_filter: LetterFilter, now: datetime, limit: int) -> list[dict]:
    """The newest `limit` matching dead letters, as the admin API shows them."""
    with UnitOfWork(sessions) as uow:
        page = list_page(uow.session, letter_filter, now=now, limit=max(1, limit))
        return [letter_summary(letter) for letter in page.letters]


def requeue_ids(sessions: SessionFactory, ids: list[int], act: AdminAction) -> list[int]:
    """Requeue those of `ids` that are dead; the ids requeued."""
    with UnitOfWork(sessions) as uow:
        bulk = admin.requeue_ids(uow.session, ids, act)
        uow.commit()
    return bulk.requeued_ids


def requeue_all_matching(sessions: SessionFactory, letter_filter: LetterFilter, act: AdminAction,
                         batch: int = 1000) -> list[int]:
    """Requeue every dead letter matching the filter, one transaction per batch."""
    requeued: list[int] = []
    while True:
        with UnitOfWork(sessions) as uow:
            bulk = admin.requeue_matching(uow.session, letter_filter, act, limit=batch)
            uow.commit()
        requeued += bulk.requeued_ids
        if not bulk.truncated:
            return requeued


def discard_ids(sessions: SessionFactory, ids: list[int], act: AdminAction) -> list[int]:
    """Discard those of `ids` that are dead; the ids discarded."""
    with UnitOfWork(sessions) as uow:
        discarded = admin.discard_ids(uow.session, ids, act)
        uow.commit()
    return discarded
