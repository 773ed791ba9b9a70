"""Record a job the worker gives up on, in its own transaction — what the
worker's DeadLetters middleware calls before it nacks the job."""

from __future__ import annotations

from datetime import datetime

from db.engine import UnitOfWork
from usecases.operations.dead_letters import FailedJob, record_dead_letter
from usecases.ports import SessionFactory


def record_failed_job(sessions: SessionFactory, job: FailedJob, now: datetime) -> bool:
    """Commit the dead letter (idempotent on the job id); True when this call recorded it."""
    with UnitOfWork(sessions) as uow:
        recorded = record_dead_letter(uow.session, job, now)
        uow.commit()
    return recorded
