"""Token revocations as the edge reads them from the store (docs/decisions.md D60)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import User
from usecases.ports import Ports


def recent_revocations(ports: Ports, since: datetime) -> dict[int, int]:
    """user id → token generation, for the users whose tokens were revoked after `since` (indexed)."""
    with UnitOfWork(ports.sessions) as uow:
        rows = uow.session.execute(select(User.id, User.token_generation).where(User.tokens_revoked_at > since))
        return {user_id: generation for user_id, generation in rows}
