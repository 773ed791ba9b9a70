"""Failures an operator can fix, said in one line with what to do.

`herald` prints these instead of a traceback (cli.main). Anything not
recognised here is a bug and keeps its traceback.
"""

from __future__ import annotations

import re

from cli.database import NoDatabase

MISSING_DATABASE = re.compile(r'database "([^"]+)" does not exist')
MISSING_TABLE = re.compile(r"no such table|relation \S+ does not exist|UndefinedTable")


def explain(error: BaseException) -> str | None:
    """One line for a failure the operator can fix; None for anything else."""
    # Imported here: `herald run` must patch with gevent before sqlalchemy loads.
    from sqlalchemy.exc import DBAPIError

    from config import ConfigError

    if isinstance(error, (ConfigError, NoDatabase)):
        return str(error)
    if isinstance(error, DBAPIError):
        return _database(error)
    return None


def _database(error) -> str:
    first_line = str(error.orig if error.orig is not None else error).strip().splitlines()[0]
    # psycopg: 'connection failed: connection to server at "…", port 1 failed: Connection refused'
    reason = re.sub(r"^.*failed: (FATAL: +)?", "", first_line).strip()
    missing = MISSING_DATABASE.search(str(error.orig))
    if missing:
        name = missing.group(1)
        return (f'database "{name}" does not exist: create it (e.g. `createdb {name}`), '
                "then run `herald db upgrade`")
    if MISSING_TABLE.search(f"{type(error.orig).__name__} {error.orig}"):
        return f"the database has no Herald tables ({reason}): run `herald db upgrade`"
    return f"the database refused or could not be reached ({reason}): check DATABASE_URL and that it is running"
