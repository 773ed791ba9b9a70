"""Tokens scoped to one conversation (the `ctx` claim, docs/decisions.md D24),
and API keys (D77): each reaches only the endpoints on its allow-list.

Deny by default: a scoped token reaches only the endpoints named in
`SCOPED_TOKEN_ENDPOINTS` — the ones a chat about that one conversation
needs, each of which checks the scope of what it touches. Every other
endpoint, including those added later, answers 403 `forbidden` to it,
before its view runs. A scoped token is a mobile user's token held by a
business (it asked for it), so nothing account-wide — devices, blocks,
privacy, socket tickets, membership and filing changes — is on the list.
"""

from __future__ import annotations

from flask import Flask, request

from pipeline.errors import Forbidden, InvalidToken
from web.auth.identity import bearer_claims, caller

SCOPED_TOKEN_ENDPOINTS = frozenset({
    "conversations.list_own",  # lists only the scoped conversation
    "conversations.unread_total",
    "conversations.get",
    "conversation_messages.list_messages",
    "conversation_messages.send",
    "conversation_messages.read",
    "conversation_members.list_members",
    "messages.get_message",
    "message_changes.edit",
    "message_changes.delete",
    "reactions.place",
    "reactions.take_back",
    "presence.get_presence",  # only the scoped conversation's members
    "ws.socket",  # replays and forwards only the scoped conversation's items
})

# An API key sends one-way messages and follows what became of them; it
# manages nothing, not even API keys (a leaked key cannot mint more).
API_KEY_ENDPOINTS = frozenset({
    "messages.send_oneway",
    "messages.list_sent",
    "messages.get_message",
    "messages.list_recipients",
})


def conversation_scope() -> int | None:
    """The one conversation the caller's token may see, or None for an unscoped token."""
    context = caller().context
    return int(context) if context is not None else None


def init_app(app: Flask) -> None:
    app.before_request(refuse_scoped_tokens_outside_their_endpoints)


def refuse_scoped_tokens_outside_their_endpoints() -> None:
    """Raises Forbidden for a valid scoped token or API key on an endpoint not made for it."""
    if request.routing_exception is not None:
        return None  # no such route (404) or method (405): routing answers that
    try:
        claims = bearer_claims()
    except InvalidToken:
        return None  # the endpoint refuses it, or does not read tokens at all
    if claims is not None and claims.context is not None and request.endpoint not in SCOPED_TOKEN_ENDPOINTS:
        raise Forbidden("a token scoped to one conversation cannot use this endpoint")
    if claims is not None and claims.api_key_id is not None and request.endpoint not in API_KEY_ENDPOINTS:
        raise Forbidden("an API key can only send messages and read their status")
    return None
