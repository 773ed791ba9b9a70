"""Reading a user's delivery stream for a socket: the replay after a
position, page by page, and where the stream ends (`GET /v1/ws?since=`,
the lost-ring check)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.engine import UnitOfWork
from usecases.messaging.stream import last_position, last_positions, replay
from usecases.ports import Ports


@dataclass(frozen=True)
class ReplayPage:
    items: list[tuple[int, dict]]  # (position, frame), oldest first
    served_upto: int  # the position the socket has now been served up to
    complete: bool  # no more after this page


def replay_page(ports: Ports, user_id: int, after: int, now: datetime, limit: int,
                conversation_id: int | None = None) -> ReplayPage:
    """Stream frames after `after`, at most `limit`.

    A socket scoped to one conversation is served past the items it may
    not see: its last page takes it to the stream's end as read before the
    page (read first, so nothing committed in between is skipped).
    """
    with UnitOfWork(ports.sessions) as uow:
        end = last_position(uow.session, user_id) if conversation_id is not None else None
        items = replay(uow.session, user_id, after, now, limit, conversation_id=conversation_id)
    served = items[-1][0] if items else after
    complete = len(items) < limit
    if complete and end is not None:
        served = max(served, end)
    return ReplayPage(items, served, complete)


def stream_ends(ports: Ports, user_ids: list[int]) -> dict[int, int]:
    """The users' last stream positions, in one statement (users without a stream are left out)."""
    with UnitOfWork(ports.sessions) as uow:
        return last_positions(uow.session, user_ids)


def stream_end(ports: Ports, user_id: int) -> int:
    """The user's last stream position (0 before anything was delivered)."""
    with UnitOfWork(ports.sessions) as uow:
        return last_position(uow.session, user_id)
