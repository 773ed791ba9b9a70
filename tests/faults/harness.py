"""Fault-injection harness: a full stack of real processes on a fresh
database and RabbitMQ virtual host, a known load from posting threads,
real WebSocket clients that ack and reconnect, a fault injected under load,
and an exact account — by message id and position — of what every
recipient saw.

    scenario = Scenario("worker-kill", tmp_path)
    scenario.start_edge(); scenario.start_worker()
    accounting = scenario.run(fault)   # fault(scenario) injects and heals
    assert accounting.problems == []
"""

from __future__ import annotations

import random
import re
import signal
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import requests
from sqlalchemy import text

from config import load_settings
from usecases.accounts.users import create_user
from db.engine import UnitOfWork, make_engine, make_session_factory
from db.migrate import upgrade
from tests.conftest import JWT_SECRET
from tests.faults.clients import Client, Post, Poster, attempt, replay
from tests.support import services
from tests.support.processes import ROOT, Process, start_dramatiq, start_gunicorn
from web.auth.tokens import TokenConfig, issue_access_token

__all__ = ["Accounting", "Client", "Edge", "Scenario"]
RESULTS = ROOT / ".bench" / "faults.txt"


@dataclass
class Edge:
    process: Process
    base_url: str

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http", "ws", 1)


@dataclass
class Accounting:
    """What happened to every message of a scenario, and what went wrong."""
    name: str
    sent: int = 0
    accepted: int = 0  # 202 at the first attempt
    refused: dict = field(default_factory=dict)  # first-attempt status → count (5xx while a service is down)
    unanswered: int = 0  # no answer at the first attempt
    retried_ok: int = 0  # accepted by a retry with the same Idempotency-Key
    replayed: int = 0  # … of which had been committed all along (the retry replayed it)
    expected: int = 0  # (message, recipient) pairs that must be delivered
    delivered: int = 0  # … found in the recipients' views
    duplicates: int = 0
    missing: int = 0
    dead_lettered: int = 0
    failed: int = 0  # deliveries `failed` or `expired`
    resent: int = 0  # unacked frames sent again after a reconnect (expected, not duplicates)
    reconnects: int = 0
    swept: int = 0  # jobs the outbox sweeper republished
    worker_retries: int = 0  # jobs Dramatiq retried after an error
    drain_seconds: float = 0.0
    run_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        refused = ",".join(f"{k}x{v}" for k, v in sorted(self.refused.items())) or "0"
        line = (f"fault={self.name} sent={self.sent} accepted={self.accepted} refused={refused} "
                f"unanswered={self.unanswered} retried_ok={self.retried_ok} (replayed={self.replayed}) "
                f"pairs={self.expected} delivered={self.delivered} duplicates={self.duplicates} "
                f"missing={self.missing} dead_lettered={self.dead_lettered} failed={self.failed} "
                f"resent_after_reconnect={self.resent} reconnects={self.reconnects} swept={self.swept} "
                f"worker_retries={self.worker_retries} "
                f"drain={self.drain_seconds:.1f}s run={self.run_seconds:.1f}s")
        return line + (" | " + "; ".join(self.notes) if self.notes else "")

    def publish(self) -> None:
        line = self.summary()
        print("\n" + line)
        RESULTS.parent.mkdir(exist_ok=True)
        with RESULTS.open("a") as f:
            f.write(f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ} {line}"
                    f"{' PROBLEMS=' + str(len(self.problems)) if self.problems else ''}\n")


class Scenario:
    def __init__(self, name: str, tmp_path: Path, *, messages: int = 300, posters: int = 4, rate: float = 80.0,
                 online: int = 8, offline: int = 4, max_recipients: int = 3, env: dict | None = None,
                 drain_timeout: float = 60.0, seed: int | None = None):
        self.name = name
        self.logs = tmp_path
        self.messages, self.poster_count, self.rate = messages, posters, rate
        self.drain_timeout = drain_timeout
        self.random = random.Random(seed if seed is not None else name)
        self.edges: list[Edge] = []
        self.workers: list[Process] = []
        self.clients: list[Client] = []
        self.post_edge: Edge | None = None  # where the posters send
        self.client_edge: Edge | None = None  # where the clients connect
        self.edge_up = threading.Event()  # cleared while the posters must wait for an edge
        self.edge_up.set()
        self.started_at = 0.0
        self.notes: list[str] = []
        self.poison: list[int] = []  # messages meant to fail: checked by their own test
        self.database_url = services.create_database()
        self.broker_url = services.create_vhost()
        self.engine = make_engine(self.database_url, pool_size=2)
        self.env = {
            "DATABASE_URL": self.database_url, "BROKER_URL": self.broker_url, "REDIS_URL": services.redis_url(),
            # Pub/sub channels are global to the Redis server: names of our own.
            "REDIS_NAMESPACE": f"herald-faults-{name}-{uuid.uuid4().hex[:6]}",
            "JWT_SECRET": JWT_SECRET, "HERALD_DATA_DIR": str(tmp_path / "data"),
            "RATE_LIMITS": "off", "HERALD_DEMO": "off",
            # Small, so the heartbeat's lost-ring check and the sweeper run during a short test.
            "WS_PING_SECONDS": "2", "OUTBOX_SWEEP_AFTER_SECONDS": "2", "OUTBOX_SWEEP_INTERVAL_SECONDS": "1",
            **(env or {}),
        }
        try:
            upgrade(self.database_url)
            self._make_users(online, offline, max_recipients)
        except BaseException:
            self.close()
            raise

    # --- setup ---------------------------------------------------------------

    def _make_users(self, online: int, offline: int, max_recipients: int) -> None:
        now = datetime.now(timezone.utc)
        prefix = f"+6682{self.random.randrange(10**5):05d}"
        with UnitOfWork(make_session_factory(self.engine)) as uow:
            business = create_user(uow.session, role="business", now=now, username=f"acme-{self.name}")
            users = [create_user(uow.session, role="mobile", now=now, phone=f"{prefix}{n:03d}")
                     for n in range(online + offline)]
            uow.commit()
        tokens = TokenConfig.from_settings(load_settings(self.env))
        self.business_token = issue_access_token(tokens, user_id=business.id, role="business")
        self.tokens = {u.id: issue_access_token(tokens, user_id=u.id, role="mobile") for u in users}
        self.online = [u.id for u in users[:online]]
        self.offline = [u.id for u in users[online:]]
        everyone = self.online + self.offline
        self.posts = [Post(thread=n % self.poster_count, seq=n // self.poster_count,
                           key=f"{self.name}-{uuid.uuid4().hex[:8]}-{n}",
                           to=self.random.sample(everyone, self.random.randint(1, max_recipients)),
                           body=f"{self.name} message {n}")
                      for n in range(self.messages)]

    def start_edge(self, name: str | None = None) -> Edge:
        name = name or f"edge-{len(self.edges) + 1}"
        log_dir = self.logs / name
        log_dir.mkdir(parents=True, exist_ok=True)
        process, base_url = start_gunicorn(self.env, log_dir)
        edge = Edge(process, base_url)
        self.edges.append(edge)
        self.post_edge = self.post_edge or edge
        self.client_edge = self.client_edge or edge
        return edge

    def start_worker(self, name: str | None = None, threads: int = 4) -> Process:
        name = name or f"worker-{len(self.workers) + 1}"
        worker = start_dramatiq(self.env, self.logs, threads=threads, name=name)
        self.workers.append(worker)
        return worker

    def kill(self, process: Process) -> None:
        """`kill -9` of the process and everything it started (its process group)."""
        process.signal(signal.SIGKILL)
        process.popen.wait(10)

    def note(self, line: str) -> None:
        """A fact about this run, printed after the summary figures."""
        self.notes.append(line)

    def connect(self, user_id: int) -> Client:
        """An offline user opens the app now (during the fault, say)."""
        self.offline.remove(user_id)
        self.online.append(user_id)
        client = Client(user_id, self.tokens[user_id], lambda: self.client_edge.ws_url)
        self.clients.append(client)
        client.start()
        return client

    # --- observing the database ----------------------------------------------

    def accepted_count(self) -> int:
        return sum(1 for p in self.posts if p.message_id is not None)

    def positioned_pairs(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM deliveries WHERE position IS NOT NULL")).scalar_one()

    def expected_pairs(self) -> int:
        return sum(len(ids) for ids in self._expected().values())

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except Exception:  # a service may be down right now
                pass
            time.sleep(0.01)
        raise AssertionError(f"{self.name}: {what} within {timeout}s")

    def since_start(self) -> float:
        return time.monotonic() - self.started_at

    # --- the run ---------------------------------------------------------------

    def run(self, fault: Callable[["Scenario"], None]) -> Accounting:
        """Clients connect, the load starts, `fault(self)` injects the fault
        and heals it; then retries, drain, replays and the accounting."""
        assert self.post_edge is not None, "start an edge first"
        self.clients = [Client(u, self.tokens[u], lambda: self.client_edge.ws_url) for u in self.online]
        for client in self.clients:
            client.start()
        for client in self.clients:
            assert client.ready.wait(15), f"client {client.user_id} never got ready"
        self.started_at = time.monotonic()
        posters = [Poster([p for p in self.posts if p.thread == n], self.rate / self.poster_count,
                          self.business_token, lambda: self.post_edge.base_url, self.edge_up)
                   for n in range(self.poster_count)]
        for poster in posters:
            poster.start()
        try:
            fault(self)
        finally:
            self.edge_up.set()
            for poster in posters:
                poster.join(120)
        self.note(f"load done at {self.since_start():.1f}s")
        self._retry_unaccepted()
        load_done = time.monotonic()
        drained = self._drain()
        drain_seconds = time.monotonic() - load_done
        for client in self.clients:
            client.stop()
        accounting = self._account(drained)
        accounting.drain_seconds = drain_seconds
        accounting.run_seconds = time.monotonic() - self.started_at
        accounting.publish()
        return accounting

    def _retry_unaccepted(self) -> None:
        """What a client does with a post that got no 202: send it again,
        same Idempotency-Key, until it is accepted."""
        http = requests.Session()
        for post in self.posts:
            deadline = time.monotonic() + 30
            while post.message_id is None and time.monotonic() < deadline:
                if attempt(http, self.post_edge.base_url, self.business_token, post) != 202:
                    time.sleep(0.5)

    def _expected(self) -> dict[int, set[int]]:
        expected: dict[int, set[int]] = defaultdict(set)
        for post in self.posts:
            if post.message_id is not None:
                for user_id in post.to:
                    expected[user_id].add(post.message_id)
        return expected

    def _drain(self) -> bool:
        expected = self._expected()
        pairs = self.expected_pairs()

        def done() -> bool:
            if self.positioned_pairs() < pairs:
                return False
            return all(expected[c.user_id] <= c.message_ids() for c in self.clients)

        try:
            self.wait_until(done, "not drained", timeout=self.drain_timeout)
            return True
        except AssertionError:
            return False

    # --- the accounting --------------------------------------------------------

    def _account(self, drained: bool) -> Accounting:
        acc = Accounting(self.name, notes=self.notes)
        problems = acc.problems
        if not drained:
            problems.append(f"not drained within {self.drain_timeout}s")
        acc.sent = len(self.posts)
        acc.accepted = sum(p.accepted_first_time for p in self.posts)
        acc.unanswered = sum(p.first_status is None for p in self.posts)
        for post in self.posts:
            if post.first_status not in (None, 202):
                acc.refused[post.first_status] = acc.refused.get(post.first_status, 0) + 1
        acc.retried_ok = sum(1 for p in self.posts if not p.accepted_first_time and p.message_id is not None)
        acc.replayed = sum(p.replayed for p in self.posts)
        never = [p.key for p in self.posts if p.message_id is None]
        if never:
            problems.append(f"{len(never)} posts never accepted, even retried: {never[:5]}")
        expected = self._expected()
        acc.expected = sum(len(ids) for ids in expected.values())
        self._check_database(acc)
        stored = self._replays(acc)
        live = {client.user_id: sorted(client.view.items()) for client in self.clients}
        # What each user saw: live frames (and those after reconnecting) for
        # online users, a replay with since=0 after the run for the others.
        views = {user_id: live.get(user_id, stored[user_id]) for user_id in stored}
        for user_id, pairs in views.items():
            positions = [pos for pos, _ in pairs]
            ids = [mid for _, mid in pairs]
            seen = set(ids)
            acc.delivered += len(seen & expected[user_id])
            acc.missing += len(expected[user_id] - seen)
            if expected[user_id] - seen:
                problems.append(f"user {user_id} misses {len(expected[user_id] - seen)}: "
                                f"{sorted(expected[user_id] - seen)[:10]}")
            if seen - expected[user_id]:
                problems.append(f"user {user_id} got unexpected messages {sorted(seen - expected[user_id])[:10]}")
            if len(ids) != len(seen):
                acc.duplicates += len(ids) - len(seen)
                problems.append(f"user {user_id}: the same message at several positions")
            if positions != list(range(1, len(positions) + 1)):
                problems.append(f"user {user_id}: positions not 1..{len(positions)} without gaps: {positions[:20]}")
        for client in self.clients:
            acc.duplicates += client.duplicates
            acc.resent += client.resent
            acc.reconnects += client.connections - 1
            problems.extend(client.violations[:10])
            if live[client.user_id] != stored[client.user_id]:
                problems.append(f"user {client.user_id}: live view ({len(live[client.user_id])} frames) differs "
                                f"from the stream's replay ({len(stored[client.user_id])})")
        self._check_order(views, problems)
        acc.swept = sum(int(n) for w in self.workers
                        for n in re.findall(r"outbox sweeper republished (\d+) jobs", w.log()))
        acc.worker_retries = sum(w.log().count("Retrying message") for w in self.workers)
        lost = sum(e.process.log().count("ring subscriber lost Redis") for e in self.edges)
        if lost:
            acc.notes.append(f"ring subscriber reconnect attempts: {lost}")
        return acc

    def _replays(self, acc: Accounting) -> dict[int, list[tuple[int, int]]]:
        """Every user's stream, replayed with since=0 on a live edge."""
        views = {}
        for user_id in self.online + self.offline:
            pairs, odd = replay(self.client_edge.ws_url, self.tokens[user_id])
            views[user_id] = pairs
            acc.problems.extend(f"user {user_id} replay: {o}" for o in odd)
        return views

    def _check_database(self, acc: Accounting) -> None:
        """Every 202 is committed, nothing else is, and no delivery failed."""
        known = {p.message_id for p in self.posts if p.message_id is not None} | set(self.poison)
        not_poison = {"poison": self.poison or [0]}
        with self.engine.connect() as conn:
            stored = set(conn.execute(text("SELECT id FROM messages")).scalars())
            dead = conn.execute(text("SELECT reason, count(*) FROM dead_letters WHERE message_id IS NULL "
                                     "OR message_id <> ALL(:poison) GROUP BY reason"), not_poison).all()
            failed = conn.execute(text("SELECT status, count(*) FROM deliveries WHERE status IN ('failed', 'expired') "
                                       "AND message_id <> ALL(:poison) GROUP BY status"), not_poison).all()
            unpositioned = conn.execute(text("SELECT count(*) FROM deliveries WHERE position IS NULL "
                                             "AND message_id <> ALL(:poison)"), not_poison).scalar_one()
        acc.dead_lettered = sum(n for _, n in dead)
        acc.failed = sum(n for _, n in failed)
        if known - stored:
            acc.problems.append(f"202 answered but not committed: {sorted(known - stored)[:10]}")
        if stored - known:
            acc.problems.append(f"committed without any 202, even on retry (ghosts): {sorted(stored - known)[:10]}")
        if dead:
            acc.problems.append(f"dead letters: {dead}")
        if failed:
            acc.problems.append(f"failed deliveries: {failed}")
        if unpositioned:
            acc.problems.append(f"{unpositioned} deliveries never positioned")

    def _check_order(self, views: dict[int, list[tuple[int, int]]], problems: list[str]) -> None:
        """Promise 3: messages one thread posted one after another (each
        after the previous 202) reach each recipient in that order."""
        for user_id, pairs in views.items():
            position = {mid: pos for pos, mid in pairs}
            by_thread: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for post in self.posts:
                if post.accepted_first_time and user_id in post.to and post.message_id in position:
                    by_thread[post.thread].append((post.seq, position[post.message_id]))
            for thread, seq_positions in by_thread.items():
                ordered = [pos for _, pos in sorted(seq_positions)]
                if ordered != sorted(ordered):
                    problems.append(f"user {user_id}: thread {thread}'s messages out of order")

    # --- teardown --------------------------------------------------------------

    def close(self) -> None:
        self.edge_up.set()
        for client in self.clients:
            client.stop()
        for process in [e.process for e in self.edges] + self.workers:
            process.stop()
        self.engine.dispose()
        services.drop_database(self.database_url)
        services.delete_vhost(self.broker_url)

    def logs_tail(self, chars: int = 2000) -> str:
        out = []
        for process in [e.process for e in self.edges] + self.workers:
            out.append(f"--- {process.name} ({process.log_path}) ---\n{process.log()[-chars:]}")
        return "\n".join(out)
