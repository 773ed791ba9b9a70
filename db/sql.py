"""Dialect helpers: insert-on-conflict for PostgreSQL and SQLite alike."""

from __future__ import annotations

from sqlalchemy import bindparam, cast, column, select, update, values
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


def insert_ignoring_conflicts_returning(session: Session, model, rows: list[dict], index_elements: list[str],
                                        returning: list) -> list:
    """One multi-row INSERT … ON CONFLICT (index_elements) DO NOTHING RETURNING
    `returning`: the rows that went in (none for those already there)."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(rows).on_conflict_do_nothing(index_elements=index_elements)
    return session.execute(statement.returning(*returning)).all()


def lock_rows(session: Session, model, key: str, keys, columns: list[str]) -> dict:
    """Lock the rows of `model` whose `key` is in `keys` (a list, or a
    SELECT of keys) for this transaction, in one statement and in ascending
    key order; {key: (columns…)} of each.

    PostgreSQL: `SELECT … ORDER BY key FOR NO KEY UPDATE` — rows are locked
    as they leave the sort, so in key order, and in the mode an UPDATE of a
    non-key column takes: it queues with the other writers of those rows
    exactly as the no-op UPDATE it replaces did. SQLite: a no-op UPDATE …
    RETURNING, which takes the database's write lock (a SELECT would take a
    read lock only, and two writers upgrading theirs deadlock).
    """
    if isinstance(keys, (list, tuple, set, frozenset)):
        if not keys:
            return {}
        keys = sorted(keys)
    table = model.__table__
    key_column = table.c[key]
    selected = [key_column, *(table.c[name] for name in columns)]
    if is_postgresql(session):
        statement = (select(*selected).where(key_column.in_(keys)).order_by(key_column)
                     .with_for_update(key_share=True))
    else:
        statement = (update(table).where(key_column.in_(keys))
                     .values({key: key_column}).returning(*selected))
    return {row[0]: tuple(row[1:]) for row in session.execute(statement)}


def update_rows(session: Session, model, key: str, rows: list[dict]) -> None:
    """Set each row's other columns to its values, the row found by `key`,
    for all the rows in one statement: `UPDATE … FROM (VALUES …)` on
    PostgreSQL, one executemany of a keyed UPDATE on SQLite (no VALUES
    column aliases there; statements cost no round trip in-process).
    Every row carries the same columns."""
    if not rows:
        return
    table = model.__table__
    names = list(rows[0])
    if is_postgresql(session):
        data = values(*(column(name, table.c[name].type) for name in names), name="v").data(
            [tuple(row[name] for name in names) for row in rows])
        session.execute(update(table).where(table.c[key] == data.c[key])
                        # cast: a column of NULLs in VALUES is text to PostgreSQL
                        .values({name: cast(data.c[name], table.c[name].type) for name in names if name != key}))
    else:
        statement = (update(table).where(table.c[key] == bindparam(f"k_{key}"))
                     .values({name: bindparam(f"k_{name}") for name in names if name != key}))
        session.connection().execute(statement, [{f"k_{name}": row[name] for name in names} for row in rows])


def insert_from_select_ignoring_conflict(session: Session, model, names: list[str], query,
                                         index_elements: list[str]) -> None:
    """INSERT INTO model (names) SELECT … ON CONFLICT (index_elements) DO
    NOTHING: rows made in the database, none built in Python."""
    insert = postgresql.insert if is_postgresql(session) else sqlite.insert
    session.execute(insert(model.__table__).from_select(names, query)
                    .on_conflict_do_nothing(index_elements=index_elements))


def insert_ignoring_conflict_returning(session: Session, model, rows: list[dict], index_elements: list[str],
                                       returning: list[str]) -> list[tuple]:
    """INSERT … ON CONFLICT (index_elements) DO NOTHING RETURNING `returning`
    for many rows: one statement whatever their number (SQLAlchemy's
    insertmanyvalues, compiled once); tuples of the rows that went in."""
    if not rows:
        return []
    table = model.__table__
    insert = postgresql.insert if is_postgresql(session) else sqlite.insert
    statement = (insert(table).on_conflict_do_nothing(index_elements=index_elements)
                 .returning(*(table.c[name] for name in returning)))
    return [tuple(row) for row in session.connection().execute(statement, rows)]
