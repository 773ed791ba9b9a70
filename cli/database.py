"""The database as the `herald` commands open it.

SQLite creates a missing file on first connect: a command run in the wrong
folder would leave an empty `herald.db` behind and then fail on a missing
table. So commands that only read or change data open an existing database
(`existing_sessions`); only `herald db upgrade` and `herald run` create one.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, make_session_factory

CREATE_HINT = "create it with `herald db upgrade` (or start `make run`, which does)"


class NoDatabase(Exception):
    """The configured database is not there; the message says how to create it."""


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.get_backend_name() == "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def existing_sessions(url: str) -> sessionmaker[Session]:
    """Sessions on the database at `url`, which must exist already.

    Raises:
        NoDatabase: a SQLite URL whose file does not exist.
    """
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise NoDatabase(f"no database at {path}: {CREATE_HINT}; "
                         "or set HERALD_DATA_DIR / DATABASE_URL to where it is")
    return make_session_factory(make_engine(url))


def prepare_folder(url: str) -> None:
    """Make the folder of a SQLite file, which SQLite will not create itself."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
