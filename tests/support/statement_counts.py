"""Counting the SQL a piece of work costs (not timing it): statements sent
and commits, on every engine of the process (an executemany counts once:
one round trip). Counts do not suffer from a busy machine, so tests may
assert them."""

from __future__ import annotations

import contextlib

from sqlalchemy import Engine, event


class StatementCounter:
    def __init__(self):
        self.statements: list[str] = []
        self.commits = 0

    @property
    def count(self) -> int:
        return len(self.statements)

    def show(self, label: str) -> None:
        """Print what was counted (pytest shows it for a failing test)."""
        print(f"\n{label}: {self.count} statements, {self.commits} commits")
        for statement in self.statements:
            print("   ", statement)


@contextlib.contextmanager
def counting_statements():
    """Count on every engine while the block runs: the app and the workers build their own."""
    counter = StatementCounter()

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        counter.statements.append(" ".join(statement.split())[:140])

    def on_commit(conn):
        counter.commits += 1

    event.listen(Engine, "before_cursor_execute", on_execute)
    event.listen(Engine, "commit", on_commit)
    try:
        yield counter
    finally:
        event.remove(Engine, "before_cursor_execute", on_execute)
        event.remove(Engine, "commit", on_commit)
