"""A group's membership changes as the API asks for them, each through
usecases.chat.changes.run_change: the members (and whoever was removed or
left) are told through their streams."""

from __future__ import annotations

from usecases.chat.changes import run_change
from usecases.chat.conversation_pages import member
from usecases.chat.memberships import add_members, change_role, leave, remove_member
from usecases.ports import Ports


def add_to_group(ports: Ports, conversation_id: int, actor_id: int, scope: int | None,
                 user_ids: list[int]) -> list[int]:
    """Owners and admins add users; someone who left comes back; current members are skipped.
    The ids actually added.

    Raises:
        NotFound, Forbidden, CannotMessage, RecipientNotFound, ValidationFailed, ConversationClosed.
    """
    events = run_change(ports, conversation_id, actor_id, scope, lambda session, conversation, me, now: add_members(
        session, conversation, me, user_ids, ports.chat.group_member_limit, now))
    return events[0].payload["user_ids"] if events else []


def remove_from_group(ports: Ports, conversation_id: int, actor_id: int, scope: int | None, user_id: int) -> None:
    """Remove a member (owners and admins), or yourself: the same as leaving."""
    if user_id == actor_id:
        return leave_group(ports, conversation_id, actor_id, scope)
    run_change(ports, conversation_id, actor_id, scope, lambda session, conversation, me, now: remove_member(
        session, conversation, me, user_id, now))
    return None


def leave_group(ports: Ports, conversation_id: int, user_id: int, scope: int | None) -> None:
    """Leave a group; the last owner hands it to the longest-standing admin, else member."""
    run_change(ports, conversation_id, user_id, scope,
               lambda session, conversation, me, now: leave(session, conversation, me, now))


def set_member_role(ports: Ports, conversation_id: int, actor_id: int, scope: int | None, user_id: int,
                    role: str) -> dict:
    """Change a member's role (pipeline.conversations.check_role_change says who may); the member then."""
    run_change(ports, conversation_id, actor_id, scope, lambda session, conversation, me, now: change_role(
        session, conversation, me, user_id, role))
    return member(ports, conversation_id, user_id)
