"""Tokens the `auth` fixture does not make: scoped to one conversation, or expired."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from web.auth.tokens import issue_access_token


def scoped_token(config, user, conversation_id: int) -> str:
    """An access token with a `ctx` claim (docs/decisions.md D24)."""
    return issue_access_token(config, user_id=user.id, role=user.role, context=conversation_id)


def expired_token(config, user) -> str:
    issued = datetime.now(timezone.utc) - timedelta(hours=2)
    return issue_access_token(config, user_id=user.id, role=user.role, now=issued, ttl_seconds=60)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
