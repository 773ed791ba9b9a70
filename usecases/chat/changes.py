"""Runs a change to one conversation: one unit of work with the
conversation locked, the events that tell the members queued, commit,
then publish."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import Conversation, ConversationMember
from pipeline.memberships import ConversationEvent
from usecases.chat.events import queue_event
from usecases.chat.memberships import lock_for_change
from usecases.ports import Ports

Change = Callable[[Session, Conversation, ConversationMember, datetime], list[ConversationEvent]]


def run_change(ports: Ports, conversation_id: int, user_id: int, context: int | None,
               change: Change) -> list[ConversationEvent]:
    """Apply `change` as `user_id`; the events it returns reach the streams after commit.

    Raises:
        NotFound: the user is not a member (or the token is scoped elsewhere).
    """
    now = datetime.now(timezone.utc)
    with UnitOfWork(ports.sessions) as uow:
        conversation, me = lock_for_change(uow.session, conversation_id, user_id, context)
        events = change(uow.session, conversation, me, now)
        jobs = [queue_event(uow.session, conversation_id=conversation_id, kind=event.kind, payload=event.payload,
                            user_ids=list(event.audience), policy=ports.outbox, now=now)
                for event in events]
        uow.commit()
    ports.publisher.submit(jobs)
    return events
