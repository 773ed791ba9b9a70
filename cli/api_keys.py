"""`herald api-key create`: an operator makes a business user's API key."""

from __future__ import annotations

from datetime import datetime, timezone

from cli.database import existing_sessions
from config import load_settings
from pipeline.errors import HeraldError
from usecases.accounts.api_keys import create_key
from usecases.operations.audit import Actor


def create(*, user_id: int, name: str) -> dict:
    """The new key with its secret (printed once: only its hash is kept);
    audited with the system actor, via "cli"."""
    settings = load_settings()
    try:
        return create_key(existing_sessions(settings.database_url), user_id, name, datetime.now(timezone.utc),
                          Actor(None, "cli"))
    except HeraldError as e:
        raise SystemExit(f"herald: {e.code}: {e.detail}") from None
