"""Noise-free counts of the work a piece of code causes: SQL statements,
transactions and commits (SQLAlchemy engine events), AMQP publishes and the
waits for the broker (pika: each confirm frame the broker sends back — one
per publish when a blocking channel waits for each, one for many when a
publisher confirms per batch — and each `tx.commit`), Redis commands and
round trips (redis-py: a command sent on its own is one round trip, a
pipeline is one round trip for all its commands).

Instrumented from the outside — class-level hooks on SQLAlchemy's Engine,
redis-py's Redis/Pipeline and pika's Channel — so production code needs no
hook. Only work done while a phase is open is counted; work in the phase's
own thread is booked to the phase, work in another thread (the edge's
publisher thread) to a component named after that thread.

Install once per process (bench_counts runs in a process of its own).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from typing import Callable

FIELDS = ("runs", "statements", "transactions", "commits", "publishes", "broker_round_trips",
          "redis_commands", "redis_round_trips", "jobs")


@dataclass
class Tally:
    runs: int = 0                # requests, jobs or flushes counted here
    statements: int = 0          # cursor executions (an executemany counts once)
    transactions: int = 0        # BEGINs (psycopg opens one before a transaction's first statement)
    commits: int = 0
    publishes: int = 0           # AMQP basic.publish
    broker_round_trips: int = 0  # confirm frames received + tx.commits: the waits for the broker
    redis_commands: int = 0
    redis_round_trips: int = 0   # a command on its own, or one pipeline
    jobs: int = 0                # outbox rows written (filled in by the caller)

    def add(self, other: "Tally") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict:
        return asdict(self)


class Counters:
    """Tallies per component; `phase(name)` opens a component for the calling thread."""

    def __init__(self, other_thread_name: Callable[[str, str], str] | None = None):
        """`other_thread_name(phase, thread name)` names the component another
        thread's work is booked to while `phase` is open."""
        self._lock = threading.Lock()
        self._phase: str | None = None
        self._owner: threading.Thread | None = None
        self.tallies: dict[str, Tally] = defaultdict(Tally)
        self.other_threads: set[str] = set()
        self._name_other = other_thread_name or (lambda _phase, name: f"thread {name}")

    # -- booking ------------------------------------------------------------
    def _component(self) -> str | None:
        phase = self._phase
        if phase is None:
            return None
        thread = threading.current_thread()
        if thread is self._owner:
            return phase
        self.other_threads.add(thread.name)
        return self._name_other(phase, thread.name)

    def book(self, **amounts: int) -> None:
        component = self._component()
        if component is None:
            return
        with self._lock:
            tally = self.tallies[component]
            for name, n in amounts.items():
                setattr(tally, name, getattr(tally, name) + n)

    def add(self, component: str, **amounts: int) -> None:
        """Book amounts the caller counted itself (runs, jobs) to a component."""
        with self._lock:
            tally = self.tallies[component]
            for name, n in amounts.items():
                setattr(tally, name, getattr(tally, name) + n)

    @contextmanager
    def phase(self, name: str):
        """Count what the calling thread (and other threads meanwhile) do as `name`."""
        self._phase, self._owner = name, threading.current_thread()
        try:
            yield self.tallies[name]
        finally:
            self._phase = self._owner = None

    def take(self) -> dict[str, Tally]:
        """The tallies so far; start again from zero."""
        with self._lock:
            taken, self.tallies = dict(self.tallies), defaultdict(Tally)
        return taken

    # -- instruments --------------------------------------------------------
    def install(self) -> None:
        self._install_sqlalchemy()
        self._install_redis()
        self._install_pika()

    def _install_sqlalchemy(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        @event.listens_for(Engine, "before_cursor_execute")
        def _statement(conn, cursor, statement, parameters, context, executemany):
            self.book(statements=1)

        @event.listens_for(Engine, "begin")
        def _begin(conn):
            self.book(transactions=1)

        @event.listens_for(Engine, "commit")
        def _commit(conn):
            self.book(commits=1)

    def _install_redis(self) -> None:
        import redis
        from redis.client import Pipeline

        command = redis.Redis.execute_command
        execute = Pipeline.execute

        def execute_command(client, *args, **options):
            self.book(redis_commands=1, redis_round_trips=1)
            return command(client, *args, **options)

        def pipeline_execute(pipe, *args, **kwargs):
            queued = len(pipe.command_stack)
            if queued:
                self.book(redis_commands=queued, redis_round_trips=1)
            return execute(pipe, *args, **kwargs)

        redis.Redis.execute_command = execute_command  # Pipeline has its own: queues, sends nothing
        Pipeline.execute = pipeline_execute

    def _install_pika(self) -> None:
        # pika.channel.Channel is under every adapter (BlockingChannel and
        # SelectConnection alike): publishes, tx.commits and the confirm
        # frames the broker sends back (one per publish when a blocking
        # channel waits for each; one may cover many with `multiple`).
        from pika.channel import Channel

        publish = Channel.basic_publish
        tx_commit = Channel.tx_commit
        confirm_delivery = Channel.confirm_delivery

        def basic_publish(channel, *args, **kwargs):
            self.book(publishes=1)
            return publish(channel, *args, **kwargs)

        def commit(channel, *args, **kwargs):
            self.book(broker_round_trips=1)
            return tx_commit(channel, *args, **kwargs)

        def confirm(channel, ack_nack_callback, *args, **kwargs):
            def counted(frame):
                self.book(broker_round_trips=1)
                return ack_nack_callback(frame)
            return confirm_delivery(channel, counted, *args, **kwargs)

        Channel.basic_publish = basic_publish
        Channel.tx_commit = commit
        Channel.confirm_delivery = confirm
