"""End-to-end one-way throughput and latency in full mode.

Real processes on the real services: gunicorn (gevent) and a dramatiq worker
on a fresh PostgreSQL database and RabbitMQ vhost. One business sender posts
M one-way messages over HTTP from C threads (a requests.Session each), each
to one of R online mobile recipients (round robin); every recipient holds a
StreamClient (in a separate process) that records each frame and acks it.

Figures: accepted msgs/s (202s), delivered msgs/s (first 202 → last frame),
202→frame latency percentiles, frames lost/duplicated, and the deliveries
that reached `delivered` in the database. Not a test: nothing here passes or
fails on speed.

    .venv/bin/python -m tests.load.bench_oneway -m 3000 -r 50 -c 16
"""

from __future__ import annotations

import argparse
import itertools
import math
import multiprocessing as mp
import os
import random
import re
import threading
import uuid
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests
from sqlalchemy import text

from config import load_settings
from usecases.accounts.users import create_user
from db.engine import UnitOfWork, make_engine, make_session_factory
from db.migrate import upgrade
from tests.load import cpu
from tests.load.pgwait import PgWaitSampler
from tests.load.receivers import ACK_MODES, ReceiverReport, run_receivers
from tests.support import services
from tests.support.processes import BIN, Process, free_port, wait_http
from web.auth.tokens import TokenConfig, issue_access_token

JWT_SECRET = "bench-secret-" + "x" * 40
BODY_CHARS = 400  # with the frame's envelope, a frame is about the raw baseline's 512 bytes


@dataclass
class OnewayConfig:
    messages: int = 3000
    recipients: int = 50
    concurrency: int = 16
    web_workers: int = 2
    worker_processes: int = 2
    worker_threads: int = 8
    ack: str = "frame"
    timeout: float = 120.0
    log_dir: Path = Path(".bench")
    user_id_base: int | None = None  # None: a random base far from small ids; 0: the database's own


@dataclass
class Post:
    message_id: int
    recipient: int
    sent_at: float
    accepted_at: float


@dataclass
class OnewayResult:
    config: OnewayConfig
    posts: list[Post] = field(default_factory=list)
    rejected: Counter = field(default_factory=Counter)  # HTTP status or exception name → count
    first_post_at: float = 0.0
    receivers: ReceiverReport = field(default_factory=ReceiverReport)
    timed_out: bool = False
    db_status: dict[str, int] = field(default_factory=dict)
    log_problems: dict[str, Counter] = field(default_factory=dict)
    log_events: Counter = field(default_factory=Counter)
    log_dir: Path | None = None
    stages: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    pg_waits: list[str] = field(default_factory=list)
    window_seconds: float = 0.0

    # -- derived figures -------------------------------------------------
    @property
    def accepted(self) -> int:
        return len(self.posts)

    @property
    def accepted_per_second(self) -> float:
        if not self.posts:
            return 0.0
        span = max(p.accepted_at for p in self.posts) - self.first_post_at
        return self.accepted / span if span > 0 else 0.0

    def first_arrivals(self) -> dict[tuple[int, int], float]:
        first: dict[tuple[int, int], float] = {}
        for recipient, message_id, _pos, at in self.receivers.frames:
            key = (recipient, message_id)
            if key not in first or at < first[key]:
                first[key] = at
        return first

    @property
    def delivered(self) -> int:
        expected = {(p.recipient, p.message_id) for p in self.posts}
        return len(expected & self.first_arrivals().keys())

    @property
    def delivered_per_second(self) -> float:
        arrivals = self.first_arrivals()
        expected = {(p.recipient, p.message_id) for p in self.posts}
        times = [t for key, t in arrivals.items() if key in expected]
        if not times or not self.posts:
            return 0.0
        span = max(times) - min(p.accepted_at for p in self.posts)
        return len(times) / span if span > 0 else 0.0

    @property
    def machine_busy(self) -> float:
        """Share of all CPUs busy during the run (every process on the machine)."""
        if not self.window_seconds:
            return 0.0
        return self.cpu_seconds.get(cpu.MACHINE, 0.0) / (self.window_seconds * (os.cpu_count() or 1))

    def latencies_ms(self) -> list[float]:
        arrivals = self.first_arrivals()
        return sorted((arrivals[(p.recipient, p.message_id)] - p.accepted_at) * 1000
                      for p in self.posts if (p.recipient, p.message_id) in arrivals)

    def integrity(self) -> dict[str, int]:
        """Counted exactly by (recipient, message id, position)."""
        frames = self.receivers.frames
        expected = {(p.recipient, p.message_id) for p in self.posts}
        triples = Counter((r, m, pos) for r, m, pos, _ in frames)
        per_message = Counter((r, m) for r, m, _pos, _ in frames)
        per_position = Counter((r, pos) for r, _m, pos, _ in frames)
        positions: dict[int, set[int]] = {}
        for r, _m, pos, _ in frames:
            positions.setdefault(r, set()).add(pos)
        gaps = sum(max(ps) - len(ps) for ps in positions.values())
        return {
            "lost": len(expected - per_message.keys()),
            # the same frame again, or the same message at another position
            "duplicated": sum(n - 1 for n in per_message.values()),
            "repeated_triples": sum(n - 1 for n in triples.values()),
            "position_reused": sum(n - 1 for n in per_position.values()),
            "position_gaps": gaps,
            "unexpected": len(per_message.keys() - expected),
        }

    def lines(self) -> list[str]:
        c = self.config
        lat = self.latencies_ms()
        integ = self.integrity()
        out = [
            f"one-way end to end: M={c.messages} R={c.recipients} C={c.concurrency} "
            f"(gunicorn -w {c.web_workers} gevent, dramatiq {c.worker_processes}p×{c.worker_threads}t, "
            f"ack per {c.ack})",
            f"  accepted   {self.accepted_per_second:9.0f} msg/s  ({self.accepted} × 202, first POST → last 202)"
            + (f"; rejected {dict(self.rejected)}" if self.rejected else ""),
            f"  delivered  {self.delivered_per_second:9.0f} msg/s  ({self.delivered} frames, first 202 → last frame)",
        ]
        http = sorted((p.accepted_at - p.sent_at) * 1000 for p in self.posts)
        if http:
            out.append(f"  POST→202 p50 {pct(http, 50):.1f} ms  p95 {pct(http, 95):.1f} ms  p99 {pct(http, 99):.1f} ms")
        if lat:
            negative = sum(1 for x in lat if x < 0)
            out.append(f"  latency 202→frame p50 {pct(lat, 50):.1f} ms  p95 {pct(lat, 95):.1f} ms  "
                       f"p99 {pct(lat, 99):.1f} ms  max {lat[-1]:.1f} ms"
                       + (f"  ({negative} frames beat their 202)" if negative else ""))
        out.append(f"  frames lost {integ['lost']}, duplicated {integ['duplicated']} "
                   f"(repeated (recipient, id, position) {integ['repeated_triples']}, "
                   f"position reused {integ['position_reused']}, gaps {integ['position_gaps']}, "
                   f"unexpected {integ['unexpected']})")
        out.append(f"  database: {self.db_status.get('delivered', 0)}/{self.accepted} deliveries 'delivered' "
                   f"(all statuses: {dict(sorted(self.db_status.items()))})")
        for name, (p50, p95, p99) in self.stages.items():
            out.append(f"  stage {name}: p50 {p50:.1f} p95 {p95:.1f} p99 {p99:.1f} ms")
        if self.cpu_seconds and self.accepted:
            parts = ", ".join(f"{label} {seconds * 1000 / self.accepted:.1f}"
                              for label, seconds in self.cpu_seconds.items())
            out.append(f"  CPU ms per message over the {self.window_seconds:.1f} s run "
                       f"({os.cpu_count()} CPUs, {self.machine_busy:.0%} busy): {parts}")
        out += self.pg_waits
        if self.receivers.foreign:
            out.append(f"  FOREIGN frames (another sender's body) {len(self.receivers.foreign)}, e.g. "
                       f"(recipient, id, position, body) {self.receivers.foreign[:2]}")
        if self.receivers.reconnects or self.receivers.errors:
            out.append(f"  clients: {self.receivers.reconnects} reconnects; "
                       + "; ".join(self.receivers.errors[:3]))
        if self.timed_out:
            out.append(f"  TIMED OUT after {c.timeout:.0f} s: figures cover what arrived")
        if self.log_events:
            out.append("  in the logs: " + ", ".join(f"{name} {n}" for name, n in sorted(self.log_events.items())))
        for name, problems in self.log_problems.items():
            if problems:
                out.append(f"  {name} log: {sum(problems.values())} warning/error lines, e.g.")
                out += [f"    {n} × {line[:150]}" for line, n in problems.most_common(3)]
        if self.log_dir:
            out.append(f"  logs: {self.log_dir}")
        return out


def pct(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    index = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


# -- the stack ---------------------------------------------------------------

def stack_env(database_url: str, broker_url: str, data_dir: Path) -> dict:
    return {
        "DATABASE_URL": database_url,
        "BROKER_URL": broker_url,
        "REDIS_URL": services.redis_url(),
        "JWT_SECRET": JWT_SECRET,
        "HERALD_DATA_DIR": str(data_dir),
        "RATE_LIMITS": "off",
        "HERALD_DEMO": "off",
    }


def create_users(database_url: str, env: dict, recipients: int,
                 id_base: int = 0) -> tuple[str, list[int], list[str]]:
    """A business sender and R mobile users; their access tokens.

    Redis pub/sub channels are global to the Redis server (not per numbered
    database), and the realtime channel is named by user id only. Any other
    Herald on this Redis (a parallel test run) with the same user ids would
    ring our sockets and we theirs, so by default our ids start far away.
    """
    tokens = TokenConfig.from_settings(load_settings(env))
    engine = make_engine(database_url)
    now = datetime.now(timezone.utc)
    try:
        if id_base:
            with engine.begin() as conn:
                conn.execute(text("SELECT setval(pg_get_serial_sequence('users', 'id'), :base)"), {"base": id_base})
        with UnitOfWork(make_session_factory(engine)) as uow:
            sender = create_user(uow.session, role="business", now=now, username="bench", name="Bench")
            mobiles = [create_user(uow.session, role="mobile", now=now, phone=f"+6690{n:07d}")
                       for n in range(recipients)]
            uow.commit()
        sender_token = issue_access_token(tokens, user_id=sender.id, role="business", ttl_seconds=3600)
        mobile_tokens = [issue_access_token(tokens, user_id=u.id, role="mobile", ttl_seconds=3600) for u in mobiles]
        return sender_token, [u.id for u in mobiles], mobile_tokens
    finally:
        engine.dispose()


def wait_for_log_count(process: Process, needle: str, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.log().count(needle) >= count:
            return
        if process.popen.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"{process.name} logged {needle!r} fewer than {count} times:\n{process.log()[-2000:]}")


# The same command lines as tests.support.processes.start_gunicorn and
# start_dramatiq, but the Process is handed over before waiting for it, so a
# process that fails to come up is still stopped by the caller's `finally`.

def spawn_web(env: dict, log_dir: Path, workers: int, started: list[Process]) -> str:
    port = free_port()
    argv = [str(BIN / "gunicorn"), "-k", "gevent", "-w", str(workers), "-b", f"127.0.0.1:{port}",
            "--graceful-timeout", "5", "web.wsgi:app"]
    process = Process("gunicorn", argv, env, log_dir)
    started.append(process)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz", process=process)
    return base


def spawn_worker(env: dict, log_dir: Path, processes: int, threads: int, started: list[Process]) -> None:
    argv = [str(BIN / "dramatiq"), "workers.main", "--processes", str(processes), "--threads", str(threads)]
    process = Process("dramatiq", argv, env, log_dir)
    started.append(process)
    wait_for_log_count(process, "is ready for action", processes)


PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL|Traceback)\b")
NOISE = re.compile(r"\d{4}-\d\d-\d\d[ T][\d:,.]+|\[\d+\]|0x[0-9a-f]+|\b\d+\b")


NOTABLE = {
    "deadlocks": re.compile(r"DeadlockDetected: deadlock detected"),
    "jobs republished by the outbox sweeper": re.compile(r"outbox sweeper republished (\d+) jobs"),
    "failed jobs (retried)": re.compile(r"Failed to process message"),
}


def log_problems(process: Process) -> Counter:
    """Warning/error lines, with numbers blanked so repeats group together."""
    return Counter(NOISE.sub("#", line.strip()) for line in process.log().splitlines() if PROBLEM.search(line))


def log_events(process: Process) -> Counter:
    """Counts of the events that cost throughput or hint at a bug."""
    events: Counter = Counter()
    for line in process.log().splitlines():
        for name, pattern in NOTABLE.items():
            if match := pattern.search(line):
                events[name] += int(match.group(1)) if match.groups() else 1
    return events


# -- the run -------------------------------------------------------------------

def post_all(base_url: str, token: str, recipient_ids: list[int], config: OnewayConfig,
             body_prefix: str, deadline: float, result: OnewayResult) -> None:
    counter = itertools.count()
    lock = threading.Lock()
    padding = "x" * BODY_CHARS

    def poster() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        mine, rejected = [], Counter()
        while time.monotonic() < deadline:
            i = next(counter)
            if i >= config.messages:
                break
            recipient = i % len(recipient_ids)
            body = f"{body_prefix}{i} {padding}"[:BODY_CHARS]
            sent = time.monotonic()
            try:
                response = session.post(f"{base_url}/v1/messages", json={"to": [recipient_ids[recipient]],
                                                                         "body": body}, timeout=30)
            except requests.RequestException as e:
                rejected[type(e).__name__] += 1
                continue
            at = time.monotonic()
            if response.status_code == 202:
                mine.append(Post(response.json()["id"], recipient, sent, at))
            else:
                rejected[response.status_code] += 1
        session.close()
        with lock:
            result.posts += mine
            result.rejected.update(rejected)

    threads = [threading.Thread(target=poster, name=f"poster-{n}", daemon=True)
               for n in range(config.concurrency)]
    result.first_post_at = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def count_statuses(database_url: str, message_ids: list[int]) -> dict[str, int]:
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT status, count(*) FROM deliveries WHERE message_id = ANY(:ids) "
                                     "GROUP BY status"), {"ids": message_ids}).all()
        return {status: n for status, n in rows}
    finally:
        engine.dispose()


STAGES = {
    "accepted→queued (edge published and marked it)": ("accepted_at", "queued_at"),
    "accepted→sent (a worker took the job)": ("accepted_at", "sent_at"),
    "sent→delivered (position, ring, frame, ack)": ("sent_at", "delivered_at"),
}


def stage_percentiles(database_url: str, message_ids: list[int]) -> dict[str, tuple[float, float, float]]:
    """Where the time goes, from the deliveries' own timestamps (p50/p95/p99 ms)."""
    out = {}
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            for name, (start, end) in STAGES.items():
                row = conn.execute(text(
                    f"SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP "
                    f"(ORDER BY extract(epoch FROM {end} - {start}) * 1000) FROM deliveries "
                    f"WHERE message_id = ANY(:ids) AND {end} IS NOT NULL"), {"ids": message_ids}).scalar()
                if row:
                    out[name] = tuple(row)
        return out
    finally:
        engine.dispose()


def run_oneway(config: OnewayConfig) -> OnewayResult:
    result = OnewayResult(config)
    run_dir = Path(config.log_dir).resolve() / f"oneway-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    result.log_dir = run_dir
    database_url = broker_url = None
    started: list[Process] = []
    receivers = None
    ctx = mp.get_context("spawn")
    try:
        database_url = services.create_database()
        upgrade(database_url)
        broker_url = services.create_vhost()
        env = stack_env(database_url, broker_url, run_dir / "data")
        id_base = (random.randrange(1_000, 1_000_000) * 1_000_000 if config.user_id_base is None
                   else config.user_id_base)
        sender_token, recipient_ids, mobile_tokens = create_users(database_url, env, config.recipients, id_base)

        base_url = spawn_web(env, run_dir, config.web_workers, started)
        spawn_worker(env, run_dir, config.worker_processes, config.worker_threads, started)
        web, worker = started

        # Bodies carry this run's tag, so a frame from any other sender shows.
        body_prefix = f"bench-{uuid.uuid4().hex[:8]} "
        ready, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
        received = ctx.Value("q", 0, lock=False)
        receivers = ctx.Process(target=run_receivers, name="bench-receivers", daemon=True,
                                args=(base_url.replace("http", "ws", 1), mobile_tokens, config.ack,
                                      body_prefix, ready, stop, received, results, config.timeout + 60))
        receivers.start()
        connect_by = time.monotonic() + 60
        while not ready.wait(0.2):
            if not receivers.is_alive() or time.monotonic() > connect_by:
                report = results.get(timeout=5) if not receivers.is_alive() else None
                raise RuntimeError(f"the WebSocket clients did not connect: {report and report.errors}")

        groups = {"edge (gunicorn)": web.popen.pid, "workers (dramatiq)": worker.popen.pid}
        harness = {os.getpid(), receivers.pid}
        database_name = database_url.rsplit("/", 1)[1]
        cpu_before, window_start = cpu.snapshot(groups, harness, database_name), time.monotonic()
        deadline = time.monotonic() + config.timeout
        with PgWaitSampler(database_name) as sampler:
            post_all(base_url, sender_token, recipient_ids, config, body_prefix, deadline, result)
            # Wait for a frame per accepted message (foreign frames count too:
            # they take our frames' places), then a moment for late duplicates.
            while received.value < result.accepted and time.monotonic() < deadline:
                time.sleep(0.02)
        result.pg_waits = sampler.lines()
        result.timed_out = received.value < result.accepted
        result.cpu_seconds = cpu.difference(cpu_before, cpu.snapshot(groups, harness, database_name))
        result.window_seconds = time.monotonic() - window_start
        time.sleep(0.5)
        stop.set()
        result.receivers = results.get(timeout=60)
        receivers.join(10)

        ids = [p.message_id for p in result.posts]
        settle = time.monotonic() + 15
        while True:  # acks are recorded asynchronously by the edge
            result.db_status = count_statuses(database_url, ids)
            if result.db_status.get("delivered", 0) >= len(ids) or time.monotonic() > settle:
                break
            time.sleep(0.2)
        result.stages = stage_percentiles(database_url, ids)
        return result
    finally:
        tear_down(result, receivers, started, database_url, broker_url)


def tear_down(result, receivers, started: list[Process], database_url: str | None, broker_url: str | None) -> None:
    """Stop the receivers and the stack's processes (their logs read into `result`
    first), then remove the bench's database and vhost."""
    if receivers is not None and receivers.is_alive():
        receivers.kill()
    for process in started:
        # Read before stopping: shutdown noise (dramatiq logs "Killing
        # worker process" when killpg's SIGTERM meets its own) is not load.
        result.log_problems[process.name] = log_problems(process)
        result.log_events.update(log_events(process))
        process.stop()
    if database_url:
        services.drop_database(database_url)
    if broker_url:
        services.delete_vhost(broker_url)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", "--messages", type=int, default=3000, help="messages to post (M)")
    parser.add_argument("-r", "--recipients", type=int, default=50, help="online recipients (R)")
    parser.add_argument("-c", "--concurrency", type=int, default=16, help="posting threads (C)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn gevent workers")
    parser.add_argument("--worker-processes", type=int, default=2, help="dramatiq processes")
    parser.add_argument("--worker-threads", type=int, default=8, help="dramatiq threads per process")
    parser.add_argument("--ack", choices=ACK_MODES, default="frame",
                        help="frame: cumulative ack after every frame; batch: ack once no frame is waiting")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before giving up on arrivals")
    parser.add_argument("--user-id-base", type=int, default=None,
                        help="first user id - 1 (default: random, far from other runs sharing Redis; "
                             "0: start at 1)")
    parser.add_argument("--log-dir", type=Path, default=Path(".bench"), help="where process logs go")


def config_from(args: argparse.Namespace) -> OnewayConfig:
    return OnewayConfig(messages=args.messages, recipients=args.recipients, concurrency=args.concurrency,
                        web_workers=args.web_workers, worker_processes=args.worker_processes,
                        worker_threads=args.worker_threads, ack=args.ack, timeout=args.timeout,
                        log_dir=args.log_dir, user_id_base=args.user_id_base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    print("\n".join(run_oneway(config_from(parser.parse_args())).lines()))


if __name__ == "__main__":
    main()
