"""The caller's blocks as the API manages them, each in one unit of work."""

from __future__ import annotations

from datetime import datetime, timezone

from db.engine import UnitOfWork
from db.models import User
from usecases.chat.blocks import block_user, block_view, list_blocks, unblock_user
from usecases.ports import Ports


def block(ports: Ports, blocker_id: int, user_id: int) -> tuple[dict, bool]:
    """The block as shown, and whether it is new.

    Raises:
        ValidationFailed: blocking oneself. UserNotFound: no such user.
    """
    with UnitOfWork(ports.sessions) as uow:
        row, created = block_user(uow.session, blocker_id, user_id, datetime.now(timezone.utc))
        answer = block_view(row, uow.session.get(User, user_id))
        uow.commit()
    return answer, created


def unblock(ports: Ports, blocker_id: int, user_id: int) -> None:
    """Lift the block, if there is one."""
    with UnitOfWork(ports.sessions) as uow:
        unblock_user(uow.session, blocker_id, user_id)
        uow.commit()


def blocks_of(ports: Ports, blocker_id: int, *, limit: int, cursor: str | None) -> dict:
    """Newest first: `items` and `next_cursor`.

    Raises:
        BadRequest: a cursor that is not one of ours.
    """
    with UnitOfWork(ports.sessions) as uow:
        page, next_cursor = list_blocks(uow.session, blocker_id, limit=limit, cursor=cursor)
        return {"items": [block_view(b, u) for b, u in page], "next_cursor": next_cursor}
