"""Readiness: whether the database answers, for the edge's /readyz."""

from __future__ import annotations

from sqlalchemy import text

from db.engine import UnitOfWork
from usecases.ports import Ports


def database_answers(ports: Ports) -> bool:
    """True when a trivial query succeeds; any failure means not ready."""
    try:
        with UnitOfWork(ports.sessions) as uow:
            uow.session.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
