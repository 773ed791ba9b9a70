"""Starting a conversation, filing it (archive), closing it, and granting a
business a token of one of its members scoped to it (D24, D26)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import User
from pipeline.errors import AccountDisabled, RecipientNotFound, ValidationFailed
from pipeline.phones import looks_like_phone, normalize_phone
from usecases.accounts.users import mobile_user_for_phone
from usecases.chat.changes import run_change
from usecases.chat.conversation_pages import conversation_view
from usecases.chat.conversation_status import close_conversation, set_archived
from usecases.chat.conversations import conversation_for_member, create_group, get_or_create_direct, member
from usecases.messaging.idempotency import RequestKey, remember, replay_of
from usecases.operations.audit import audit
from usecases.ports import Ports


@dataclass(frozen=True)
class StartConversation:
    caller_id: int
    caller_role: str
    kind: str  # "direct" or "group"
    with_: int | str | None = None  # direct: a user id, +E164 phone or username
    title: str | None = None
    members: tuple[int, ...] = ()
    context_ref: str | None = None


@dataclass(frozen=True)
class Started:
    conversation: dict
    status_code: int  # 201 created, 200 an existing direct conversation
    replayed: bool = False


def start_conversation(ports: Ports, request: StartConversation, key: RequestKey | None) -> Started:
    """Get or create the direct conversation with a user, or create a group.

    Raises:
        RecipientNotFound, ValidationFailed, CannotMessage, IdempotencyKeyReused, IdempotencyKeyInFlight.
    """
    now = datetime.now(timezone.utc)
    with UnitOfWork(ports.sessions) as uow:
        replay = replay_of(uow.session, key, now)
        if replay is None:
            conversation_id, created = _start(uow.session, ports, request, now)
            status_code = 201 if created else 200
            remember(uow.session, key, status_code, {"id": conversation_id})
            uow.commit()
    if replay is not None:
        conversation_id, status_code = replay.response["id"], replay.status_code
    view = conversation_view(ports, conversation_id, request.caller_id, None)
    return Started(view, status_code, replayed=replay is not None)


def _start(session: Session, ports: Ports, request: StartConversation, now: datetime) -> tuple[int, bool]:
    me = session.get(User, request.caller_id)
    if request.kind == "direct":
        other = _other(session, request.with_, request.caller_role, now, ports.phones.default_region)
        conversation, created = get_or_create_direct(session, me, other, now, request.context_ref)
        return conversation.id, created
    if not request.title:
        raise ValidationFailed("a group needs a title")
    conversation = create_group(session, me, request.title, list(request.members), ports.chat.group_member_limit,
                                now, request.context_ref)
    return conversation.id, True


def _other(session: Session, target: int | str | None, caller_role: str, now: datetime,
           region: str | None) -> User:
    """The other side of a direct conversation; a business may text a number nobody signed in with yet."""
    if target is None:
        raise ValidationFailed("a direct conversation needs `with`: a user id, +E164 phone or username")
    if isinstance(target, int):
        user = session.get(User, target)
    elif looks_like_phone(target, region):
        phone = normalize_phone(target, region)
        user = mobile_user_for_phone(session, phone, now) if caller_role == "business" else \
            session.query(User).filter_by(phone=phone).one_or_none()
    else:
        user = session.query(User).filter_by(username=target).one_or_none()
    if user is None or user.role == "admin":
        raise RecipientNotFound("no such user")
    return user


def file_conversation(ports: Ports, conversation_id: int, user_id: int, scope: int | None, archived: bool) -> dict:
    """Archive (or unarchive) for the user only; the conversation as they then see it.

    Raises:
        NotFound: not a member (or out of scope).
    """
    with UnitOfWork(ports.sessions) as uow:
        _, membership = conversation_for_member(uow.session, conversation_id, user_id, scope)
        set_archived(membership, archived, datetime.now(timezone.utc))
        uow.commit()
    return conversation_view(ports, conversation_id, user_id, scope)


def close_for_everyone(ports: Ports, conversation_id: int, user_id: int, scope: int | None) -> dict:
    """Close the conversation (members are told); the conversation as the user then sees it.

    Raises:
        NotFound: not a member. Forbidden: see pipeline.memberships.check_can_close.
    """
    run_change(ports, conversation_id, user_id, scope,
               lambda session, conversation, me, now: close_conversation(session, conversation, me))
    return conversation_view(ports, conversation_id, user_id, scope)


def grant_scoped_access(ports: Ports, conversation_id: int, business_id: int, scope: int | None,
                        user_id: int, via: str) -> tuple[int, str, int]:
    """Audit a business's grant of a token of `user_id` scoped to the conversation; the user's id,
    role and token generation (D60).

    Raises:
        NotFound: the business is not a member. RecipientNotFound: the user is not a mobile member.
        AccountDisabled: the user's account is disabled.
    """
    with UnitOfWork(ports.sessions) as uow:
        conversation_for_member(uow.session, conversation_id, business_id, scope)
        user = uow.session.get(User, user_id)
        if user is None or user.role != "mobile" or member(uow.session, conversation_id, user_id) is None:
            raise RecipientNotFound(f"user {user_id} is not a mobile member of conversation {conversation_id}")
        if user.disabled_at is not None:
            raise AccountDisabled(f"user {user_id}'s account is disabled")
        audit(uow.session, actor_id=business_id, action="conversation.scoped_token", target_type="user",
              target_id=user.id, details={"conversation_id": conversation_id, "via": via},
              now=datetime.now(timezone.utc))
        uow.commit()
        return user.id, user.role, user.token_generation
