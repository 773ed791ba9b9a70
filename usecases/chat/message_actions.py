"""A chat message's corrections and reactions as the API asks for them:
one unit of work, commit, then publish the events that tell the members."""

from __future__ import annotations

from datetime import datetime, timezone

from db.engine import UnitOfWork
from usecases.chat.message_changes import Scope, delete_message, edit_message
from usecases.chat.reactions import add_reaction, reaction_summaries, remove_reaction
from usecases.messaging.stream import message_payloads
from usecases.ports import Ports


def edit(ports: Ports, message_id: int, scope: Scope, body: str) -> dict:
    """Replace the body (its sender, within the edit window, unless deleted); the message as they then see it.

    Raises:
        NotFound, Forbidden, MessageReadOnly, MessageDeleted, EditWindowClosed, CannotMessage, ConversationClosed.
    """
    with UnitOfWork(ports.sessions) as uow:
        message, jobs = edit_message(uow.session, message_id, scope, body,
                                     window_seconds=ports.chat.edit_window_seconds, policy=ports.outbox, now=_now())
        answer = message_payloads(uow.session, [message], scope.user_id)[0]
        uow.commit()
    ports.publisher.submit(jobs)
    return answer


def delete(ports: Ports, message_id: int, scope: Scope) -> None:
    """Tombstone the message (its sender, or a group's owners and admins); again is a no-op."""
    with UnitOfWork(ports.sessions) as uow:
        jobs = delete_message(uow.session, message_id, scope, policy=ports.outbox, now=_now())
        uow.commit()
    ports.publisher.submit(jobs)


def react(ports: Ports, message_id: int, scope: Scope, emoji: str) -> tuple[bool, list[dict]]:
    """Place the caller's reaction: whether it is new, and the message's reactions then."""
    with UnitOfWork(ports.sessions) as uow:
        added, jobs = add_reaction(uow.session, message_id, scope, emoji, policy=ports.outbox, now=_now())
        reactions = reaction_summaries(uow.session, [message_id], scope.user_id).get(message_id, [])
        uow.commit()
    ports.publisher.submit(jobs)
    return added, reactions


def take_back_reaction(ports: Ports, message_id: int, scope: Scope, emoji: str) -> None:
    """Remove the caller's reaction; nothing to take back is a no-op."""
    with UnitOfWork(ports.sessions) as uow:
        jobs = remove_reaction(uow.session, message_id, scope, emoji, policy=ports.outbox, now=_now())
        uow.commit()
    ports.publisher.submit(jobs)


def _now() -> datetime:
    return datetime.now(timezone.utc)
