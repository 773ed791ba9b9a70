"""The embedded demo: an admin, a business sender and two mobile users.

`herald run` creates them and prints their tokens; `herald demo env` prints
`export` lines for a shell (`eval "$(.venv/bin/herald demo env)"`).
"""

from __future__ import annotations

import json
import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path

from cli.database import existing_sessions
from config import Settings, load_settings
from usecases.accounts.provisioning import demo_users, ensure_demo_users
from web.auth.tokens import TokenConfig, issue_access_token

DEMO_USERS = [
    {"role": "admin", "username": "admin", "name": "Demo Admin", "password": "admin-demo"},
    {"role": "business", "username": "acme", "name": "Acme Travel", "password": "acme-demo"},
    {"role": "mobile", "phone": "+66812345001", "name": "Somchai"},
    {"role": "mobile", "phone": "+66812345002", "name": "Malee"},
]
TOKEN_TTL_SECONDS = 86400


def ensure_demo(app, sessions, settings: Settings) -> list[dict]:
    """Create the demo users on first start; print their tokens every start."""
    base_url = f"http://{settings.host}:{settings.port}"
    users = ensure_demo_users(sessions, DEMO_USERS, datetime.now(timezone.utc))
    tokens = app.extensions["herald"].tokens
    demo = [{"id": u.id, "role": u.role, "name": u.name, "phone": u.phone, "username": u.username,
             "token": issue_access_token(tokens, user_id=u.id, role=u.role, ttl_seconds=TOKEN_TTL_SECONDS,
                                                 generation=u.generation)}
            for u in users]
    print(json.dumps({"demo_users": demo, "api": base_url, "docs": f"{base_url}/docs",
                      "admin": f"{base_url}/admin (admin / admin-demo)",
                      "websocket": base_url.replace("http", "ws", 1) + "/v1/ws"}, indent=2))
    print("These tokens as shell variables ($HERALD, $HERALD_WS, $ADMIN, $ACME, $SOMCHAI, $MALEE), "
          f"in another shell in this folder:\n  eval \"$({_demo_env_command(settings)})\"",
          flush=True)
    return demo


def _demo_env_command(settings) -> str:
    """`herald demo env` as this process was started, with the settings that differ from the defaults."""
    prefix = "" if settings.port == 8080 else f"PORT={settings.port} "
    if settings.data_dir != Path(".herald").resolve():
        prefix += f"HERALD_DATA_DIR={shlex.quote(str(settings.data_dir))} "
    return f"{prefix}{sys.argv[0]} demo env"


def shell_exports() -> str:
    """`export HERALD=<base url>` and one `export NAME=<fresh token>` per demo user.

    Raises:
        NoDatabase: no embedded database here (nothing was started yet).
    """
    settings = load_settings()
    users = demo_users(existing_sessions(settings.database_url), DEMO_USERS)
    if not users:
        raise SystemExit("herald: no demo users in this database: start `make run` (HERALD_DEMO=on) first")
    tokens = TokenConfig.from_settings(settings)
    lines = [f"export HERALD=http://{settings.host}:{settings.port}",
             f"export HERALD_WS=ws://{settings.host}:{settings.port}"]
    lines += [f"export {(u.username or u.name).upper()}="
              + issue_access_token(tokens, user_id=u.id, role=u.role, ttl_seconds=TOKEN_TTL_SECONDS,
                                   generation=u.generation)
              for u in users]
    return "\n".join(lines)
