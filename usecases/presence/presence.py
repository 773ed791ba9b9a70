"""Who may see whose presence: the people a user shares a conversation
with (current members on both sides), less those the user blocked."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from db.models import Block, ConversationMember, User
from pipeline.presence import PUSHED_UP_TO_MEMBERS


def _sharers(user_id: int, conversation_id: int | None = None, among: list[int] | None = None,
             within=None) -> list:
    """Query of the users sharing a conversation with `user_id` (only
    `conversation_id` if given; only the conversations `within` if given)."""
    mine, theirs = aliased(ConversationMember), aliased(ConversationMember)
    query = (select(theirs.user_id).distinct()
             .join(mine, mine.conversation_id == theirs.conversation_id)
             .where(mine.user_id == user_id, mine.left_at.is_(None), theirs.left_at.is_(None),
                    theirs.user_id != user_id))
    if conversation_id is not None:
        query = query.where(mine.conversation_id == conversation_id)
    if among is not None:
        query = query.where(theirs.user_id.in_(among))
    if within is not None:
        query = query.where(mine.conversation_id.in_(within))
    return query


def contact_ids(session: Session, user_id: int) -> list[int]:
    """Who hears `user_id`'s presence changes: sharers of a conversation of
    at most PUSHED_UP_TO_MEMBERS members, whom the user has not blocked
    (a large group's members ask instead: D73 in docs/decisions.md)."""
    # Two statements: as one, PostgreSQL may join the large group's members
    # first and count per joined row (seen: 25 s for a 10,000-member group).
    small = session.scalars(_small_conversations(user_id, PUSHED_UP_TO_MEMBERS)).all()
    ids = set(session.scalars(_sharers(user_id, within=small))) if small else set()
    if not ids:
        return []
    barred = set(session.scalars(select(Block.blocked_id).where(Block.blocker_id == user_id,
                                                                Block.blocked_id.in_(ids))))
    return sorted(ids - barred)


def _small_conversations(user_id: int, size: int):
    """Query of the user's conversations with at most `size` current members;
    each count reads at most size + 1 rows, however large the group."""
    mine, member = aliased(ConversationMember), aliased(ConversationMember)
    some = (select(member.user_id).where(member.conversation_id == mine.conversation_id, member.left_at.is_(None))
            .limit(size + 1).correlate(mine).subquery())
    return select(mine.conversation_id).where(mine.user_id == user_id, mine.left_at.is_(None),
                                              select(func.count()).select_from(some).scalar_subquery() <= size)


def visible_subjects(session: Session, viewer_id: int, user_ids: list[int],
                     conversation_id: int | None = None) -> set[int]:
    """Which of `user_ids` the viewer may see: themselves, and people who share
    a conversation with them (only `conversation_id` for a scoped token) and
    have not blocked them."""
    shared = set(session.scalars(_sharers(viewer_id, conversation_id, user_ids))) if user_ids else set()
    blockers = set(session.scalars(select(Block.blocker_id).where(
        Block.blocked_id == viewer_id, Block.blocker_id.in_(shared)))) if shared else set()
    own = {viewer_id} if viewer_id in user_ids else set()
    return (shared - blockers) | own


def last_seen_hidden(session: Session, user_ids: list[int]) -> set[int]:
    """Who of `user_ids` hides their last-seen time from others."""
    if not user_ids:
        return set()
    return set(session.scalars(select(User.id).where(User.id.in_(user_ids), User.hide_last_seen.is_(True))))


def hides_last_seen(session: Session, user_id: int) -> bool:
    return bool(session.scalar(select(User.hide_last_seen).where(User.id == user_id)))


def set_hide_last_seen(session: Session, user_id: int, hide: bool) -> None:
    session.get(User, user_id).hide_last_seen = hide
