"""Who may edit or delete a chat message, and when."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipeline.conversations import GROUP, edit_allowed, may_manage_members
from pipeline.errors import EditWindowPassed, MessageDeleted, MessageReadOnly, NotSender

CHAT = "chat"
# Two edits in the same microsecond (or a clock step back between edge
# processes) must still order: clients keep the edit with the newest edited_at.
EDIT_TICK = timedelta(microseconds=1)


def check_changeable(kind: str) -> None:
    """Raises MessageReadOnly for one-way messages: what a business sent stays as sent."""
    if kind != CHAT:
        raise MessageReadOnly("one-way messages cannot be edited, deleted or reacted to")


def check_edit(*, is_sender: bool, deleted: bool, created_at: datetime, now: datetime,
               window_seconds: int) -> None:
    """Raises NotSender, MessageDeleted or EditWindowPassed, in that order."""
    if not is_sender:
        raise NotSender("only the sender may edit a message")
    if deleted:
        raise MessageDeleted("the message was deleted")
    if not edit_allowed(now, as_utc(created_at), window_seconds):
        raise EditWindowPassed(f"messages can be edited for {window_seconds} seconds after sending")


def check_delete(*, is_sender: bool, role: str, conversation_kind: str) -> None:
    """The sender deletes their own messages at any time; in a group, owners
    and admins also delete anyone's (moderation).

    Raises:
        NotSender: anyone else.
    """
    if is_sender or (conversation_kind == GROUP and may_manage_members(role)):
        return
    raise NotSender("only the sender or a group's owners and admins may delete a message")


def next_edited_at(now: datetime, previous: datetime | None) -> datetime:
    """Strictly later than the previous edit, so edits of one message order by edited_at."""
    if previous is not None and now <= as_utc(previous):
        return as_utc(previous) + EDIT_TICK
    return now


def as_utc(value: datetime) -> datetime:
    """SQLite (embedded mode) hands stored UTC times back without their offset."""
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
