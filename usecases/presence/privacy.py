"""A user's privacy settings as the API reads and changes them."""

from __future__ import annotations

from db.engine import UnitOfWork
from usecases.ports import Ports
from usecases.presence.presence import hides_last_seen, set_hide_last_seen


def privacy_of(ports: Ports, user_id: int) -> dict:
    with UnitOfWork(ports.sessions) as uow:
        return {"hide_last_seen": hides_last_seen(uow.session, user_id)}


def set_privacy(ports: Ports, user_id: int, hide_last_seen: bool) -> dict:
    """Hide (or show) the user's last-seen time from everyone else."""
    with UnitOfWork(ports.sessions) as uow:
        set_hide_last_seen(uow.session, user_id, hide_last_seen)
        uow.commit()
    return {"hide_last_seen": hide_last_seen}
