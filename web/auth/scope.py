"""Tokens scoped to one conversation (the `ctx` claim, docs/decisions.md D24)."""

from __future__ import annotations

from web.auth.identity import caller


def conversation_scope() -> int | None:
    """The one conversation the caller's token may see, or None for an unscoped token."""
    context = caller().context
    return int(context) if context is not None else None
