"""Helpers shared by the chat tests: conversations, messages, stream reads."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from usecases.messaging.stream import replay
from db.engine import UnitOfWork
from db.models import StreamEvent
from tests.integration.test_chat_core import direct, worker  # noqa: F401  (the fixture, reused)


def group(client, auth, owner, *members, title="Trip"):
    return client.post("/v1/conversations", json={"kind": "group", "title": title,
                                                  "members": [m.id for m in members]},
                       headers=auth.headers(owner)).json["id"]


def say(client, auth, sender, conversation, body="hello"):
    answer = client.post(f"/v1/conversations/{conversation}/messages", json={"body": body},
                         headers=auth.headers(sender))
    assert answer.status_code == 202, answer.json
    return answer.json["id"]


def history(client, auth, user, conversation) -> list[dict]:
    return client.get(f"/v1/conversations/{conversation}/messages", headers=auth.headers(user)).json["items"]


def frames(sessions, user, after=0) -> list[dict]:
    """The user's stream as a reconnecting client replays it."""
    with UnitOfWork(sessions) as uow:
        return [f for _, f in replay(uow.session, user.id, after, datetime.now(timezone.utc))]


def events(sessions, user, kind) -> list[StreamEvent]:
    with UnitOfWork(sessions) as uow:
        return list(uow.session.scalars(select(StreamEvent).where(
            StreamEvent.user_id == user.id, StreamEvent.kind == kind).order_by(StreamEvent.position)))
