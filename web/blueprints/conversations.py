"""Conversations: direct (one per pair) and group, and their messages."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from db.actions.chat_messages import history
from db.actions.conversations import conversation_for_member, create_group, get_or_create_direct
from db.actions.reads import unread_count
from db.actions.stream import message_payload
from db.actions.users import mobile_user_for_phone
from db.engine import UnitOfWork
from db.models import User
from pipeline.errors import BadRequest, RecipientNotFound, ValidationFailed
from pipeline.phones import looks_like_phone, normalize_phone
from web.auth.identity import caller, requires
from web.chat import read_conversation, send_chat
from web.requests import parse
from web.resources import resources

bp = Blueprint("conversations", __name__, url_prefix="/v1/conversations")
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class CreateConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["direct", "group"]
    with_: StrictInt | Text | None = Field(default=None, alias="with")
    title: Text | None = None
    members: list[StrictInt] = []
    context_ref: Text | None = None


class SendChat(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    client_msg_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class Read(BaseModel):
    model_config = ConfigDict(extra="forbid")
    up_to_seq: Annotated[int, Field(ge=0)]


def context() -> int | None:
    """A token scoped to one conversation (see the scoped-token endpoint)."""
    return int(caller().context) if caller().context else None


@bp.post("")
@requires("mobile", "business")
def create():
    """Get or create the direct conversation with a user (200/201), or create a group (201)."""
    command, _ = parse(CreateConversation)
    if context() is not None:
        raise BadRequest("a token scoped to one conversation cannot create conversations")
    if command.context_ref and caller().role != "business":
        raise ValidationFailed("only businesses set a context reference")
    res, now = resources(), datetime.now(timezone.utc)
    with UnitOfWork(res.sessions) as uow:
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


@bp.get("/<int:conversation_id>")
@requires()
def get(conversation_id: int):
    return view(conversation_id)


def view(conversation_id: int) -> dict:
    with UnitOfWork(resources().sessions) as uow:
        conversation, member = conversation_for_member(uow.session, conversation_id, caller().user_id, context())
        return {"id": conversation.id, "kind": conversation.kind, "title": conversation.title,
                "status": conversation.status, "context_ref": conversation.context_ref,
                "last_seq": conversation.last_seq, "role": member.role, "read_seq": member.read_seq,
                "unread": unread_count(uow.session, conversation.id, member.user_id, member.read_seq),
                "archived": member.archived_at is not None,
                "created_at": conversation.created_at.isoformat()}


@bp.post("/<int:conversation_id>/messages")
@requires()
def send(conversation_id: int):
    """Accept a chat message; a resend with the same client_msg_id is a no-op."""
    command, _ = parse(SendChat)
    accepted = send_chat(resources(), caller().user_id, conversation_id, command.body, command.client_msg_id,
                         context())
    answer = {"id": accepted.message.id, "seq": accepted.message.seq, "status": "accepted",
              "client_msg_id": accepted.message.client_msg_id}
    headers = {"Location": f"/v1/messages/{accepted.message.id}"}
    if accepted.replayed:
        headers["Idempotent-Replayed"] = "true"
    return answer, 202, headers


@bp.get("/<int:conversation_id>/messages")
@requires()
def list_messages(conversation_id: int):
    """History by seq: `before` (newest first page by default) or `after`."""
    before, after = _seq_arg("before"), _seq_arg("after")
    limit = min(_seq_arg("limit") or 50, 200)
    with UnitOfWork(resources().sessions) as uow:
        conversation_for_member(uow.session, conversation_id, caller().user_id, context())
        messages = history(uow.session, conversation_id, before=before, after=after, limit=limit)
        items = [message_payload(m, uow.session.get(User, m.sender_id)) for m in messages]
    return {"items": items,
            "before": items[0]["seq"] if items else None, "after": items[-1]["seq"] if items else None}


def _seq_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise BadRequest(f"{name} must be a non-negative integer")
    return int(raw)


@bp.post("/<int:conversation_id>/read")
@requires()
def read(conversation_id: int):
    """Move the caller's read marker forward (it never moves back)."""
    command, _ = parse(Read)
    return read_conversation(resources(), caller().user_id, conversation_id, command.up_to_seq, context())
