"""Account commands: create users and mint access tokens for operators."""

from __future__ import annotations

from datetime import datetime, timezone

from cli.database import existing_sessions
from config import load_settings
from pipeline.errors import AccountDisabled, HeraldError, NotFound
from usecases.accounts.provisioning import find_user, provision_user
from web.auth.tokens import TokenConfig, issue_access_token


def create(*, role: str, phone: str | None, name: str | None, username: str | None,
           password: str | None) -> dict:
    """Create a user; returns {"id", "role", "phone", "token"}."""
    settings = load_settings()
    try:
        user = provision_user(existing_sessions(settings.database_url), role=role, now=datetime.now(timezone.utc),
                              phone=phone, name=name, username=username, password=password,
                              phone_region=settings.default_phone_region)
    except HeraldError as e:
        raise SystemExit(f"herald: {e.code}: {e.detail}") from None
    return {"id": user.id, "role": user.role, "phone": user.phone,
            "token": issue_access_token(TokenConfig.from_settings(settings), user_id=user.id, role=user.role)}


def token(user_id: int) -> dict:
    """A fresh access token for an existing user."""
    settings = load_settings()
    user = find_user(existing_sessions(settings.database_url), user_id)
    if user is None:
        raise SystemExit(f"herald: {NotFound.code}: no user {user_id}")
    if user.disabled:
        raise SystemExit(f"herald: {AccountDisabled.code}: user {user_id} is disabled")
    return {"id": user.id, "token": issue_access_token(TokenConfig.from_settings(settings), user_id=user.id,
                                                       role=user.role, generation=user.generation)}
