"""Dead-letter commands of the edge, shared by the admin API and pages:
one action in a unit of work, commit, then publish what it requeued.

A lost publish is repaired by the outbox sweeper, as on the send path.
"""

from __future__ import annotations

from datetime import datetime, timezone

from usecases.operations import dead_letter_admin as admin
from usecases.operations.dead_letter_admin import AdminAction, Bulk
from usecases.operations.dead_letter_search import LetterFilter, get_letter, letter_summary
from db.engine import UnitOfWork
from web.admin.queries import MAX_BULK
from web.resources import resources


def acting(actor_id: int, via: str) -> AdminAction:
    """An admin acting now; the edge publishes itself, the sweeper steps in after a grace."""
    return AdminAction(actor_id, via, datetime.now(timezone.utc), resources().ports.outbox)


def requeue_one(letter_id: int, act: AdminAction) -> dict:
    """Raises: NotFound, DeadLetterResolved."""
    with UnitOfWork(resources().sessions) as uow:
        job = admin.requeue_letter(uow.session, letter_id, act)
        uow.commit()
        answer = {**letter_summary(get_letter(uow.session, letter_id)), "outbox_id": job.outbox_id}
    resources().publisher.submit([job])
    return answer


def requeue_ids(ids: list[int], act: AdminAction) -> Bulk:
    with UnitOfWork(resources().sessions) as uow:
        bulk = admin.requeue_ids(uow.session, ids, act)
        uow.commit()
    resources().publisher.submit(bulk.jobs)
    return bulk


def requeue_matching(letter_filter: LetterFilter, act: AdminAction) -> Bulk:
    with UnitOfWork(resources().sessions) as uow:
        bulk = admin.requeue_matching(uow.session, letter_filter, act, limit=MAX_BULK)
        uow.commit()
    resources().publisher.submit(bulk.jobs)
    return bulk


def discard_one(letter_id: int, act: AdminAction) -> dict:
    """Raises: NotFound, DeadLetterResolved."""
    with UnitOfWork(resources().sessions) as uow:
        admin.discard_letter(uow.session, letter_id, act)
        uow.commit()
        return letter_summary(get_letter(uow.session, letter_id))


def discard_ids(ids: list[int], act: AdminAction) -> int:
    """Discard those of `ids` that are dead; how many were."""
    with UnitOfWork(resources().sessions) as uow:
        discarded = admin.discard_ids(uow.session, ids, act)
        uow.commit()
    return len(discarded)


def bulk_answer(bulk: Bulk) -> dict:
    return {"requeued": len(bulk.requeued_ids), "skipped": bulk.skipped, "ids": bulk.requeued_ids,
            "truncated": bulk.truncated}
