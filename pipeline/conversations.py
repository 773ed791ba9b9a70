"""Conversation rules: direct pairs, group roles, limits, edit windows."""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.errors import Forbidden, GroupFull, ValidationFailed

DIRECT = "direct"
GROUP = "group"
OWNER, ADMIN, MEMBER = "owner", "admin", "member"
ROLES = (OWNER, ADMIN, MEMBER)
ACTIVE, CLOSED = "active", "closed"


def pair_key(a: int, b: int) -> str:
    """The one key of the direct conversation between two users, in either order."""
    if a == b:
        raise ValidationFailed("a direct conversation needs another user")
    low, high = sorted((a, b))
    return f"{low}:{high}"


def may_manage_members(role: str) -> bool:
    """Owners and admins add and remove members and change roles."""
    return role in (OWNER, ADMIN)


def check_role_change(actor_role: str, target_role: str, new_role: str) -> None:
    """Raises Forbidden unless `actor_role` may move a member from `target_role` to `new_role`.

    Admins manage members; only owners make or unmake admins and owners.
    """
    if new_role not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}")
    if not may_manage_members(actor_role):
        raise Forbidden("only owners and admins change roles")
    if actor_role != OWNER and (new_role != MEMBER or target_role != MEMBER):
        raise Forbidden("only owners appoint or remove admins and owners")


def check_removal(actor_role: str, target_role: str) -> None:
    """Raises Forbidden unless `actor_role` may remove a member with `target_role`."""
    if not may_manage_members(actor_role):
        raise Forbidden("only owners and admins remove members")
    if target_role != MEMBER and actor_role != OWNER:
        raise Forbidden("only owners remove admins and owners")


def check_member_limit(current: int, adding: int, limit: int) -> None:
    if current + adding > limit:
        raise GroupFull(f"a group has at most {limit} members")


def edit_allowed(now: datetime, created_at: datetime, window_seconds: int) -> bool:
    return now - created_at <= timedelta(seconds=window_seconds)


def forward_only(current: int, requested: int) -> int:
    """Read markers only move forward."""
    return max(current, requested)
