"""Membership rules of group conversations: who may change them, who
inherits a group, who may close a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.conversations import ADMIN, CLOSED, DIRECT, MEMBER, OWNER, may_manage_members
from pipeline.errors import ConversationClosed, Forbidden, LastOwner, NotAGroup

# Event kinds appended to the members' streams.
MEMBER_ADDED, MEMBER_REMOVED, MEMBER_LEFT = "member_added", "member_removed", "member_left"
ROLE_CHANGED, CONVERSATION_CLOSED = "role_changed", "conversation_closed"
CONVERSATION_REOPENED = "conversation_reopened"  # an admin reopened it (the console)


@dataclass(frozen=True)
class ConversationEvent:
    """A change to tell: its kind, its payload, and whose streams get it
    (the current members, plus whoever was removed or left)."""

    kind: str
    payload: dict
    audience: tuple[int, ...]


@dataclass(frozen=True)
class Seat:
    """One active member as the rules see them."""

    user_id: int
    role: str
    joined_at: datetime


def check_group(kind: str) -> None:
    """Raises NotAGroup for a direct conversation: its two members are fixed."""
    if kind == DIRECT:
        raise NotAGroup("a direct conversation always has its two members; archive it instead")


def check_open(status: str) -> None:
    """Raises ConversationClosed: a closed group's members are frozen (leaving still works)."""
    if status == CLOSED:
        raise ConversationClosed("the conversation is closed; its members can no longer change")


def check_keeps_an_owner(seats: list[Seat], user_id: int, new_role: str) -> None:
    """Raises LastOwner when moving `user_id` to `new_role` would leave no owner."""
    owners = {s.user_id for s in seats if s.role == OWNER}
    if new_role != OWNER and owners == {user_id}:
        raise LastOwner("appoint another owner first")


def successor(seats: list[Seat], leaving: int) -> int | None:
    """Who becomes owner when the last owner leaves: the longest-standing
    admin, else the longest-standing member (earliest join, then lowest id);
    None when the group keeps another owner or nobody stays."""
    staying = [s for s in seats if s.user_id != leaving]
    if any(s.role == OWNER for s in staying):
        return None
    for role in (ADMIN, MEMBER):
        candidates = sorted((s.joined_at, s.user_id) for s in staying if s.role == role)
        if candidates:
            return candidates[0][1]
    return None


def check_can_close(kind: str, actor_role: str, with_business: bool) -> None:
    """Raises Forbidden unless the caller may close the conversation.

    Groups: owners and admins. Direct conversations: either side, but only
    when one side is a business (a support or booking chat that is done);
    two people end a chat by blocking or archiving, not by closing it.
    """
    if kind == DIRECT and not with_business:
        raise Forbidden("only a conversation with a business can be closed; archive it instead")
    if kind != DIRECT and not may_manage_members(actor_role):
        raise Forbidden("only owners and admins close a group")

