"""Conversations: create direct (one per pair) or group, list, show, unread badge.

Messages, members and status live in conversation_messages.py,
conversation_members.py and conversation_status.py.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from usecases.chat.conversation_lists import (conversations_page, last_messages, summary, unread_badge,
                                           unread_counts)
from usecases.chat.conversations import conversation_for_member, create_group, get_or_create_direct
from usecases.chat.reads import unread_count
from usecases.accounts.users import mobile_user_for_phone
from db.engine import UnitOfWork
from db.models import User
from pipeline.errors import BadRequest, RecipientNotFound, ValidationFailed
from pipeline.phones import looks_like_phone, normalize_phone
from web.auth.identity import caller, requires
from web.auth.scope import conversation_scope
from web.paging import flag, page_limit
from web.idempotency import REPLAYED, IdempotentRequest
from web.requests import parse
from web.resources import resources

bp = Blueprint("conversations", __name__, url_prefix="/v1/conversations")
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
context = conversation_scope  # kept for importers of the older name


class CreateConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["direct", "group"]
    with_: StrictInt | Text | None = Field(default=None, alias="with")
    title: Text | None = None
    members: list[StrictInt] = []
    context_ref: Text | None = None


@bp.post("")
@requires("mobile", "business")
def create():
    """Get or create the direct conversation with a user (200/201), or create a group (201)."""
    command, body = parse(CreateConversation)
    if conversation_scope() is not None:
        raise BadRequest("a token scoped to one conversation cannot create conversations")
    if command.context_ref and caller().role != "business":
        raise ValidationFailed("only businesses set a context reference")
    res, now = resources(), datetime.now(timezone.utc)
    with UnitOfWork(res.sessions) as uow:
        idempotent = IdempotentRequest(uow.session, caller().user_id, body, now)
        if (replay := idempotent.replay()) is not None:
            return view(replay.response["id"]), replay.status_code, REPLAYED
        me = uow.session.get(User, caller().user_id)
        if command.kind == "direct":
            conversation, created = get_or_create_direct(uow.session, me, _other(uow.session, command.with_, now),
                                                         now, command.context_ref)
        else:
            if not command.title:
                raise ValidationFailed("a group needs a title")
            conversation = create_group(uow.session, me, command.title, command.members,
                                        res.settings.group_member_limit, now, command.context_ref)
            created = True
        conversation_id = conversation.id
        idempotent.remember(201 if created else 200, {"id": conversation_id})
        uow.commit()
    return view(conversation_id), 201 if created else 200


def _other(session, target, now) -> User:
    if target is None:
        raise ValidationFailed("a direct conversation needs `with`: a user id, +E164 phone or username")
    if isinstance(target, int):
        user = session.get(User, target)
    elif looks_like_phone(target):
        phone = normalize_phone(target)
        user = mobile_user_for_phone(session, phone, now) if caller().role == "business" else \
            session.query(User).filter_by(phone=phone).one_or_none()
    else:
        user = session.query(User).filter_by(username=target).one_or_none()
    if user is None or user.role == "admin":
        raise RecipientNotFound("no such user")
    return user


@bp.get("")
@requires()
def list_own():
    """The caller's conversations, latest activity first, a page at a time."""
    archived, limit = flag("archived"), page_limit()
    with UnitOfWork(resources().sessions) as uow:
        rows, next_cursor = conversations_page(uow.session, caller().user_id, archived=archived,
                                               context=conversation_scope(), limit=limit,
                                               cursor=request.args.get("cursor") or None)
        previews = last_messages(uow.session, [conversation for conversation, _ in rows])
        unread = unread_counts(uow.session, caller().user_id, [conversation.id for conversation, _ in rows])
        items = [summary(c, m, unread.get(c.id, 0), previews.get(c.id)) for c, m in rows]
    return {"items": items, "next_cursor": next_cursor}


@bp.get("/unread-count")
@requires()
def unread_total():
    """For a badge: unread messages over the caller's non-archived conversations."""
    with UnitOfWork(resources().sessions) as uow:
        return unread_badge(uow.session, caller().user_id, conversation_scope())


@bp.get("/<int:conversation_id>")
@requires()
def get(conversation_id: int):
    return view(conversation_id)


def view(conversation_id: int) -> dict:
    """The conversation as the caller sees it (404 unless a member)."""
    with UnitOfWork(resources().sessions) as uow:
        conversation, member = conversation_for_member(uow.session, conversation_id, caller().user_id,
                                                       conversation_scope())
        unread = unread_count(uow.session, conversation.id, member.user_id, member.read_seq)
        return summary(conversation, member, unread, last_messages(uow.session, [conversation]).get(conversation.id))
