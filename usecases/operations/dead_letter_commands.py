"""Dead-letter commands of the admin API and pages: one action in a unit of
work, commit, then publish what it requeued.

A lost publish is repaired by the outbox sweeper, as on the send path.
"""

from __future__ import annotations

from datetime import datetime, timezone

from db.engine import UnitOfWork
from usecases.operations import dead_letter_admin as admin
from usecases.operations.dead_letter_admin import AdminAction, Bulk
from usecases.operations.audit import Actor
from usecases.operations.dead_letter_search import LetterFilter, get_letter, letter_summary
from usecases.ports import Ports

MAX_BULK = 1000  # dead letters one bulk requeue touches; the admin asks again for more


def _acting(ports: Ports, actor: Actor) -> AdminAction:
    # The edge publishes itself; the sweeper steps in after the outbox's grace.
    return AdminAction(actor.user_id, actor.via, datetime.now(timezone.utc), ports.outbox)


def requeue_one(ports: Ports, letter_id: int, actor: Actor) -> dict:
    """The letter's summary and its new outbox id.

    Raises:
        NotFound, DeadLetterResolved.
    """
    with UnitOfWork(ports.sessions) as uow:
        job = admin.requeue_letter(uow.session, letter_id, _acting(ports, actor))
        uow.commit()
        answer = {**letter_summary(get_letter(uow.session, letter_id)), "outbox_id": job.outbox_id}
    ports.publisher.submit([job])
    return answer


def requeue_ids(ports: Ports, ids: list[int], actor: Actor) -> Bulk:
    """Requeue those of `ids` that are dead; the others are counted as skipped."""
    with UnitOfWork(ports.sessions) as uow:
        bulk = admin.requeue_ids(uow.session, ids, _acting(ports, actor))
        uow.commit()
    ports.publisher.submit(bulk.jobs)
    return bulk


def requeue_matching(ports: Ports, letter_filter: LetterFilter, actor: Actor) -> Bulk:
    """Requeue up to MAX_BULK dead letters matching the filter (`truncated` when more match)."""
    with UnitOfWork(ports.sessions) as uow:
        bulk = admin.requeue_matching(uow.session, letter_filter, _acting(ports, actor), limit=MAX_BULK)
        uow.commit()
    ports.publisher.submit(bulk.jobs)
    return bulk


def discard_one(ports: Ports, letter_id: int, actor: Actor) -> dict:
    """The letter's summary once discarded.

    Raises:
        NotFound, DeadLetterResolved.
    """
    with UnitOfWork(ports.sessions) as uow:
        admin.discard_letter(uow.session, letter_id, _acting(ports, actor))
        uow.commit()
        return letter_summary(get_letter(uow.session, letter_id))


def discard_ids(ports: Ports, ids: list[int], actor: Actor) -> int:
    """Discard those of `ids` that are dead; how many were."""
    with UnitOfWork(ports.sessions) as uow:
        discarded = admin.discard_ids(uow.session, ids, _acting(ports, actor))
        uow.commit()
    return len(discarded)


def bulk_answer(bulk: Bulk) -> dict:
    return {"requeued": len(bulk.requeued_ids), "skipped": bulk.skipped, "ids": bulk.requeued_ids,
            "truncated": bulk.truncated}
