"""Dialect helpers: insert-on-conflict for PostgreSQL and SQLite alike."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring_conflict(session: Session, model, values: dict | list[dict], index_elements: list[str]) -> bool:
    """INSERT … ON CONFLICT (index_elements) DO NOTHING; True when a row went in.

    Decided by RETURNING, not rowcount: drivers disagree on rowcount here.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    key = getattr(model, index_elements[0])
    statement = insert(model).values(values).on_conflict_do_nothing(index_elements=index_elements)
    return session.execute(statement.returning(key)).first() is not None


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
