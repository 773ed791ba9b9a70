"""Samples pg_stat_activity for one database during a run: how many of its
sessions run, wait for a lock, or sit idle inside a transaction (a client
that holds row locks while it is busy elsewhere), and which statements wait.
"""

from __future__ import annotations

import threading
from collections import Counter

import psycopg

from tests.support.services import PG_ADMIN

QUERY = """
SELECT state, coalesce(wait_event_type, ''), left(regexp_replace(query, '\\s+', ' ', 'g'), 60)
FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()
"""


class PgWaitSampler:
    def __init__(self, database: str, interval: float = 0.25):
        self.database = database
        self.interval = interval
        self.samples = 0
        self.states: Counter = Counter()       # running / lock wait / idle in transaction → session-samples
        self.lock_waits: Counter = Counter()   # statement → session-samples waiting on a lock
        self.idle_in_tx: Counter = Counter()   # last statement → session-samples idle in a transaction
        self.peak: Counter = Counter()         # state → the most sessions seen in it at one sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-wait-sampler", daemon=True)

    def __enter__(self) -> "PgWaitSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        try:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                while not self._stop.wait(self.interval):
                    rows = conn.execute(QUERY, (self.database,)).fetchall()
                    self.samples += 1
                    now: Counter = Counter()
                    for state, wait_type, query in rows:
                        if state == "active":
                            now["lock wait" if wait_type == "Lock" else "running"] += 1
                            if wait_type == "Lock":
                                self.lock_waits[query] += 1
                        elif state and state.startswith("idle in transaction"):
                            now["idle in transaction"] += 1
                            self.idle_in_tx[query] += 1
                    self.states.update(now)
                    for name, n in now.items():
                        self.peak[name] = max(self.peak[name], n)
        except psycopg.Error:
            pass  # a diagnostic only; the figures stand without it

    def average(self, state: str) -> float:
        return self.states[state] / self.samples if self.samples else 0.0

    def lines(self) -> list[str]:
        if not self.samples:
            return []
        avg = ", ".join(f"{name} {self.average(name):.1f} (max {self.peak[name]})"
                        for name in ("running", "lock wait", "idle in transaction"))
        out = [f"  PostgreSQL sessions on average ({self.samples} samples every {self.interval:g} s): {avg}"]
        out += [f"    waiting on a lock {n / self.samples:4.1f}: {query}"
                for query, n in self.lock_waits.most_common(3)]
        out += [f"    idle in transaction after {n / self.samples:4.1f}: {query}"
                for query, n in self.idle_in_tx.most_common(4)]
        return out
