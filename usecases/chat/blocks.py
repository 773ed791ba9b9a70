"""Blocks: one row per (blocker, blocked). What a block prevents is enforced
where the conversation is opened or written to (usecases.chat.conversations)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from db.sql import insert_ignoring_conflict
from db.models import Block, User
from pipeline.cursors import decode_cursor, encode_cursor
from pipeline.timestamps import iso
from pipeline.errors import CannotMessage, UserNotFound, ValidationFailed


def block_user(session: Session, blocker_id: int, blocked_id: int, now: datetime) -> tuple[Block, bool]:
    """The block and whether it is new; blocking twice is a no-op.

    Raises:
        ValidationFailed: blocking oneself.
        UserNotFound: no such user (admins are not users one chats with).
    """
    if blocker_id == blocked_id:
        raise ValidationFailed("you cannot block yourself")
    target = session.get(User, blocked_id)
    if target is None or target.role == "admin":
        raise UserNotFound(f"no user {blocked_id}")
    created = insert_ignoring_conflict(session, Block, {
        "blocker_id": blocker_id, "blocked_id": blocked_id, "created_at": now}, ["blocker_id", "blocked_id"])
    return session.get(Block, (blocker_id, blocked_id)), created


def unblock_user(session: Session, blocker_id: int, blocked_id: int) -> None:
    """Lift a block; lifting one that does not exist is a no-op."""
    session.execute(delete(Block).where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id))


def list_blocks(session: Session, blocker_id: int, *, limit: int,
                cursor: str | None = None) -> tuple[list[tuple[Block, User]], str | None]:
    """One page of the caller's blocks, newest first, and the next page's cursor.

    Raises:
        BadRequest: a cursor that is not one of ours.
    """
    where = [Block.blocker_id == blocker_id]
    if cursor:
        created_at, blocked_id = decode_cursor(cursor)
        where.append(or_(Block.created_at < created_at,
                         and_(Block.created_at == created_at, Block.blocked_id < blocked_id)))
    rows = session.execute(select(Block, User).join(User, User.id == Block.blocked_id).where(*where)
                           .order_by(Block.created_at.desc(), Block.blocked_id.desc()).limit(limit + 1)).all()
    page = [(block, user) for block, user in rows[:limit]]
    more = len(rows) > limit
    return page, encode_cursor(page[-1][0].created_at, page[-1][0].blocked_id) if more else None


def check_not_blocked_by(session: Session, actor_id: int, user_ids: list[int]) -> None:
    """Someone who blocked `actor_id` cannot be put in a group by them.

    Raises:
        CannotMessage: the same vague answer as a refused direct message.
    """
    if not user_ids:
        return
    blocker = session.scalar(select(Block.blocker_id).where(
        Block.blocked_id == actor_id, Block.blocker_id.in_(user_ids)).limit(1))
    if blocker is not None:
        raise CannotMessage("you cannot add one of these users")


def block_view(block: Block, user: User) -> dict:
    """What the API shows of a block: who, and since when."""
    return {"user_id": block.blocked_id, "name": user.name, "blocked_at": iso(block.created_at)}
