"""Group membership changes: add, remove, leave, change a role. Each runs
with the conversation row locked (`lock_for_change`), so the member limit
and the last-owner rule hold under concurrent changes, and returns the
events that tell the members (none when nothing changed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from usecases.chat.blocks import check_not_blocked_by
from usecases.chat.conversations import active_member_ids, conversation_for_member
from db.models import Conversation, ConversationMember, User
from pipeline import conversations as rules
from pipeline import memberships as groups
from pipeline.errors import Forbidden, NotFound, RecipientNotFound
from pipeline.memberships import ConversationEvent, Seat


def lock_for_change(session: Session, conversation_id: int, user_id: int,
                    context: int | None) -> tuple[Conversation, ConversationMember]:
    """The conversation, locked until commit, and the caller's membership read under the lock.

    Raises:
        NotFound: not a member (checked before locking: strangers lock nothing).
    """
    conversation_for_member(session, conversation_id, user_id, context)
    conversation = session.scalars(select(Conversation).where(Conversation.id == conversation_id)
                                   .with_for_update().execution_options(populate_existing=True)).one()
    return conversation, active_seat(session, conversation_id, user_id)


def active_seat(session: Session, conversation_id: int, user_id: int) -> ConversationMember:
    """Raises NotFound unless `user_id` is a current member (read fresh, not from the session's cache)."""
    row = session.scalars(select(ConversationMember).where(
        ConversationMember.conversation_id == conversation_id, ConversationMember.user_id == user_id,
        ConversationMember.left_at.is_(None)).execution_options(populate_existing=True)).one_or_none()
    if row is None:
        raise NotFound(f"user {user_id} is not a member of conversation {conversation_id}")
    return row


def seats(session: Session, conversation_id: int) -> list[Seat]:
    rows = session.scalars(select(ConversationMember).where(
        ConversationMember.conversation_id == conversation_id, ConversationMember.left_at.is_(None)))
    return [Seat(m.user_id, m.role, m.joined_at) for m in rows]


def add_members(session: Session, conversation: Conversation, actor: ConversationMember, user_ids: list[int],
                limit: int, now: datetime) -> list[ConversationEvent]:
    """Add users (or bring back ones who left); current members are skipped.

    Raises:
        NotAGroup, ConversationClosed, Forbidden, RecipientNotFound, GroupFull,
        CannotMessage (one of them blocked the actor).
    """
    groups.check_group(conversation.kind)
    groups.check_open(conversation.status)
    if not rules.may_manage_members(actor.role):
        raise Forbidden("only owners and admins add members")
    wanted = sorted(set(user_ids))
    _check_can_join(session, wanted)
    check_not_blocked_by(session, actor.user_id, wanted)  # a blocked user cannot pull the blocker in
    known = {m.user_id: m for m in session.scalars(select(ConversationMember).where(
        ConversationMember.conversation_id == conversation.id, ConversationMember.user_id.in_(wanted)))}
    joining = [uid for uid in wanted if uid not in known or known[uid].left_at is not None]
    if not joining:
        return []
    rules.check_member_limit(len(active_member_ids(session, conversation.id)), len(joining), limit)
    for user_id in joining:
        _seat(session, known.get(user_id), conversation, user_id, now)
    session.flush()
    return [_tell(session, conversation.id, groups.MEMBER_ADDED, {"user_ids": joining, "by": actor.user_id})]


def _check_can_join(session: Session, user_ids: list[int]) -> None:
    found = session.scalars(select(User.id).where(User.id.in_(user_ids), User.role != "admin")).all()
    missing = sorted(set(user_ids) - set(found))
    if missing:
        raise RecipientNotFound(f"no such user: {', '.join(map(str, missing))}")


def _seat(session: Session, row: ConversationMember | None, conversation: Conversation, user_id: int,
          now: datetime) -> None:
    """A new member, or one who left coming back: a plain member again. What
    was said before they (re)joined is history, not unread."""
    if row is None:
        row = ConversationMember(conversation_id=conversation.id, user_id=user_id)
        session.add(row)
    row.role, row.joined_at, row.left_at, row.archived_at = rules.MEMBER, now, None, None
    row.read_seq = max(row.read_seq or 0, conversation.last_seq)


def remove_member(session: Session, conversation: Conversation, actor: ConversationMember, user_id: int,
                  now: datetime) -> list[ConversationEvent]:
    """Raises NotAGroup, ConversationClosed, NotFound (not a member), Forbidden."""
    groups.check_group(conversation.kind)
    groups.check_open(conversation.status)
    target = active_seat(session, conversation.id, user_id)
    rules.check_removal(actor.role, target.role)
    target.left_at = now
    session.flush()
    payload = {"user_id": user_id, "by": actor.user_id}
    return [_tell(session, conversation.id, groups.MEMBER_REMOVED, payload, also=user_id)]


def leave(session: Session, conversation: Conversation, me: ConversationMember,
          now: datetime) -> list[ConversationEvent]:
    """Leave a group (closed ones too); the last owner hands the group on.

    Raises:
        NotAGroup: direct conversations are archived, not left.
    """
    groups.check_group(conversation.kind)
    heir = groups.successor(seats(session, conversation.id), me.user_id) if me.role == rules.OWNER else None
    me.left_at = now
    session.flush()
    events = [_tell(session, conversation.id, groups.MEMBER_LEFT, {"user_id": me.user_id}, also=me.user_id)]
    if heir is not None:
        seat = active_seat(session, conversation.id, heir)
        previous, seat.role = seat.role, rules.OWNER
        session.flush()
        events.append(_tell(session, conversation.id, groups.ROLE_CHANGED, {
            "user_id": heir, "role": rules.OWNER, "previous_role": previous, "by": None}))
    return events


def change_role(session: Session, conversation: Conversation, actor: ConversationMember, user_id: int,
                role: str) -> list[ConversationEvent]:
    """Raises NotAGroup, ConversationClosed, NotFound, ValidationFailed, Forbidden, LastOwner."""
    groups.check_group(conversation.kind)
    groups.check_open(conversation.status)
    target = active_seat(session, conversation.id, user_id)
    rules.check_role_change(actor.role, target.role, role)
    if target.role == role:
        return []
    groups.check_keeps_an_owner(seats(session, conversation.id), user_id, role)
    previous, target.role = target.role, role
    session.flush()
    return [_tell(session, conversation.id, groups.ROLE_CHANGED, {
        "user_id": user_id, "role": role, "previous_role": previous, "by": actor.user_id})]


def _tell(session: Session, conversation_id: int, kind: str, payload: dict,
          also: int | None = None) -> ConversationEvent:
    audience = set(active_member_ids(session, conversation_id)) | ({also} if also is not None else set())
    return ConversationEvent(kind, payload, tuple(sorted(audience)))
