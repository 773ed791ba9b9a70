"""Runs a change to one conversation the way every view does: authorize,
one unit of work with the conversation locked, queue the events that tell
the members, commit, then publish."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from sqlalchemy.orm import Session

from db.actions.events import queue_event
from db.actions.memberships import lock_for_change
from db.engine import UnitOfWork
from db.models import Conversation, ConversationMember
from pipeline.memberships import ConversationEvent
from web.auth.identity import caller
from web.auth.scope import conversation_scope
from web.resources import resources

Change = Callable[[Session, Conversation, ConversationMember, datetime], list[ConversationEvent]]


def run_change(conversation_id: int, change: Change) -> list[ConversationEvent]:
    """Apply `change` as the caller; the events it returns reach the streams after commit.

    Raises:
        NotFound: the caller is not a member (or the token is scoped elsewhere).
    """
    res, now = resources(), datetime.now(timezone.utc)
    with UnitOfWork(res.sessions) as uow:
        conversation, me = lock_for_change(uow.session, conversation_id, caller().user_id, conversation_scope())
        events = change(uow.session, conversation, me, now)
        jobs = [queue_event(uow.session, conversation_id=conversation_id, kind=event.kind, payload=event.payload,
                            user_ids=list(event.audience), partitions=res.settings.delivery_partitions, now=now,
                            sweep_grace_seconds=res.settings.outbox_sweep_after_seconds)
                for event in events]
        uow.commit()
    res.publisher.submit(jobs)
    return events
