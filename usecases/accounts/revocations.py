"""Token revocations as the edge reads them from the store (docs/decisions.md D60)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import User
from pipeline.control import DISABLED, REVOKED
from usecases.ports import Ports


def recent_revocations(ports: Ports, since: datetime) -> dict[int, tuple[int, str]]:
    """user id → (token generation, why), for the users whose tokens were revoked after `since` (indexed)."""
    with UnitOfWork(ports.sessions) as uow:
        rows = uow.session.execute(select(User.id, User.token_generation, User.disabled_at)
                                   .where(User.tokens_revoked_at > since))
        return {user_id: (generation, DISABLED if disabled_at is not None else REVOKED)
                for user_id, generation, disabled_at in rows}
