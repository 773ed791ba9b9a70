"""A conversation's messages: send, history by seq, read marker."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pipeline.errors import BadRequest
from usecases.chat.conversation_pages import conversation_history
from usecases.chat.send import read_conversation, send_chat
from web.auth.identity import caller, requires
from web.auth.scope import conversation_scope
from web.idempotency import idempotency_key
from web.requests import parse
from web.resources import resources

bp = Blueprint("conversation_messages", __name__, url_prefix="/v1/conversations")


class SendChat(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    client_msg_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class Read(BaseModel):
    model_config = ConfigDict(extra="forbid")
    up_to_seq: Annotated[int, Field(ge=0)]


@bp.post("/<int:conversation_id>/messages")
@requires()
def send(conversation_id: int):
    """Accept a chat message; a resend with the same client_msg_id (or, without
    one, the same Idempotency-Key, up to 64 characters) is a no-op."""
    command, _ = parse(SendChat)
    client_msg_id = command.client_msg_id or _key_as_client_id()
    accepted = send_chat(resources().ports, caller().user_id, conversation_id, command.body, client_msg_id,
                         conversation_scope())
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
    return conversation_history(resources().ports, conversation_id, caller().user_id, conversation_scope(),
                                before=before, after=after, limit=limit)


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
    return read_conversation(resources().ports, caller().user_id, conversation_id, command.up_to_seq,
                             conversation_scope())


def _key_as_client_id() -> str | None:
    key = idempotency_key()
    if key is not None and len(key) > 64:
        raise BadRequest("on chat sends the Idempotency-Key is the client_msg_id: at most 64 characters")
    return key
