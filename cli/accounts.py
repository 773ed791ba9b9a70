"""Account commands: create users and mint access tokens for operators."""

from __future__ import annotations

from datetime import datetime, timezone

from config import load_settings
from usecases.accounts.users import create_user
from cli.database import existing_sessions
from db.engine import UnitOfWork
from db.models import User
from pipeline.errors import HeraldError, NotFound
from pipeline.phones import normalize_phone
from web.auth.passwords import hash_password
from web.auth.tokens import TokenConfig, issue_access_token


def _sessions(settings):
    return existing_sessions(settings.database_url)


def create(*, role: str, phone: str | None, name: str | None, username: str | None,
           password: str | None) -> dict:
    """Create a user; returns {"id", "token"}."""
    settings = load_settings()
    try:
        with UnitOfWork(_sessions(settings)) as uow:
            user = create_user(uow.session, role=role, now=datetime.now(timezone.utc),
                               phone=normalize_phone(phone) if phone else None, name=name,
                               username=username, password_hash=hash_password(password) if password else None)
            uow.commit()
    except HeraldError as e:
        raise SystemExit(f"herald: {e.code}: {e.detail}") from None
    return {"id": user.id, "role": user.role, "phone": user.phone,
            "token": issue_access_token(TokenConfig.from_settings(settings), user_id=user.id, role=user.role)}


def token(user_id: int) -> dict:
    """A fresh access token for an existing user."""
    settings = load_settings()
    with UnitOfWork(_sessions(settings)) as uow:
        user = uow.session.get(User, user_id)
        if user is None:
            raise SystemExit(f"herald: {NotFound.code}: no user {user_id}")
        return {"id": user.id, "token": issue_access_token(TokenConfig.from_settings(settings),
                                                           user_id=user.id, role=user.role)}
