"""Pipeline benchmarks of the "reliable pipeline" issue, in full mode on
the real services: priority isolation, throughput scaling, recovery after
`kill -9`. Not tests: nothing here passes or fails on speed; the integrity
checks are printed, not asserted.

Backlogs are built without HTTP (tests/load/backlog.py): messages,
deliveries and outbox rows (published) by COPY, then Dramatiq-format
`deliver_message` jobs published with pika into the lane/partition queues
the edge would have chosen. Backlog recipients are offline (nobody holds
their socket), so each delivery also leads to a `send_push` job on the
`push` queue, as the product does with its default PUSH_ENABLED=on (no
device is registered, so that job finds nothing to send). Worker pools are
started with `herald workers …` exactly as the Procfile does.

1. priority: `high` 202→frame latency at online recipients (H messages at
   a steady rate) on an idle system, then behind a `low` backlog, for the
   simple deployment (`--pool all`) and for the Procfile split (a pool for
   the high lane, one for normal+low, one for push).
2. scaling: drain rate of a preloaded backlog with 1, 2, 4 worker
   processes (8 threads) and with 1 vs 4 delivery partitions.
3. recovery: kill -9 a worker (whole process group) a third of the way
   through a backlog, start a fresh one, time the drain, verify the
   deliveries in the database.

    .venv/bin/python -m tests.load.bench_pipeline --only priority,scaling,recovery
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing as mp
import os
import random
import signal
import threading
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

from db.migrate import upgrade
from pipeline.contract import PUSH_QUEUE
from pipeline.contract import delivery_queues
from tests.load import backlog as bl
from tests.load import cpu
from tests.load.bench_oneway import (Post, create_users, log_events, log_problems, pct, spawn_web, stack_env,
                                     wait_for_log_count)
from tests.load.raw_rabbitmq import BATCH, RawResult, run_raw
from tests.load.receivers import run_receivers
from tests.support import services
from tests.support.processes import BIN, Process

READY = "Worker process is ready for action"
PARTS = ("priority", "scaling", "recovery")


def busy_share(busy_seconds: float, window: float) -> float:
    return busy_seconds / (window * (os.cpu_count() or 1)) if window > 0 else 0.0


def cpu_parts(seconds: dict[str, float], per: float = 1.0, unit: float = 1.0) -> str:
    """Labelled CPU figures, then what the rest of the machine (other sessions,
    other databases' backends, the kernel) used: machine minus every label."""
    labelled = {k: v for k, v in seconds.items() if k != cpu.MACHINE}
    rest = seconds.get(cpu.MACHINE, 0.0) - sum(labelled.values())
    parts = [f"{k} {v / per * unit:.1f}" for k, v in labelled.items() if v / per * unit >= 0.05]
    return ", ".join(parts + [f"everything else {max(rest, 0.0) / per * unit:.1f}"])


# -- one database, vhost and set of processes per part ------------------------

def retrying(create, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return create()
        except Exception as e:
            if time.monotonic() > deadline:
                raise
            print(f"  (a service is not answering: {e!r}; retrying)", flush=True)
            time.sleep(2)


class Lab:
    """A fresh database and vhost, the stack's environment, and every process
    started for one part; everything is removed on exit."""

    def __init__(self, name: str, log_dir: Path, partitions: int = 4):
        self.name = name
        self.partitions = partitions
        self.run_dir = Path(log_dir).resolve() / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        self.database_url = self.broker_url = None
        self.env: dict = {}
        self.started: list[Process] = []
        self.events: Counter = Counter()
        self.problems: dict[str, Counter] = {}

    def __enter__(self) -> "Lab":
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            # Other sessions on this machine restart the services now and then
            # (fault-injection tests): wait for them rather than fail at once.
            self.database_url = retrying(services.create_database)
            upgrade(self.database_url)
            self.broker_url = retrying(services.create_vhost)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.env = {**stack_env(self.database_url, self.broker_url, self.run_dir / "data"),
                    "DELIVERY_PARTITIONS": str(self.partitions),
                    # Redis channels are global to the server: keep ours apart from other runs.
                    "REDIS_NAMESPACE": f"bench-{uuid.uuid4().hex[:8]}"}
        return self

    def __exit__(self, *exc) -> None:
        for process in list(self.started):
            self.stop(process)
        for drop, what in ((services.drop_database, self.database_url), (services.delete_vhost, self.broker_url)):
            if what:
                try:
                    retrying(lambda: drop(what), timeout=30)
                except Exception as e:
                    print(f"  LEFT BEHIND {what}: {e!r}", flush=True)

    @property
    def database_name(self) -> str:
        return self.database_url.rsplit("/", 1)[1]

    def users(self, online: int, offline: int) -> tuple[str, int, list[int], list[str], list[int]]:
        """A business sender, `online` mobile users (tokens for their sockets)
        and `offline` ones; ids far from other runs sharing Redis."""
        id_base = random.randrange(1_000, 1_000_000) * 1_000_000
        token, online_ids, tokens = create_users(self.database_url, self.env, online, id_base)
        offline_ids = bl.create_offline_users(self.database_url, offline) if offline else []
        return token, bl.sender_id(self.database_url), online_ids, tokens, offline_ids

    def start_web(self, workers: int) -> tuple[Process, str]:
        base = spawn_web(self.env, self.run_dir, workers, self.started)
        return self.started[-1], base

    def start_pool(self, name: str, pool: str, processes: int, threads: int, lanes: str | None = None,
                   env: dict | None = None) -> Process:
        """`herald workers --pool …` (it execs dramatiq in the same process)."""
        argv = [str(BIN / "herald"), "workers", "--pool", pool, "--processes", str(processes),
                "--threads", str(threads)]
        if lanes:
            argv += ["--lanes", lanes]
        process = Process(name, argv, {**self.env, **(env or {})}, self.run_dir)
        self.started.append(process)
        wait_for_log_count(process, READY, processes, timeout=120)
        return process

    def collect(self, process: Process) -> None:
        self.problems[process.name] = log_problems(process)
        self.events.update(log_events(process))

    def stop(self, process: Process) -> None:
        if process in self.started:
            self.started.remove(process)
            self.collect(process)
            process.stop()

    def kill(self, process: Process) -> None:
        """kill -9 the whole process group (dramatiq's master and its workers)."""
        process.signal(signal.SIGKILL)
        process.popen.wait(10)
        if process in self.started:
            self.started.remove(process)
            self.collect(process)
            process._log.close()

    def log_lines(self) -> list[str]:
        out = []
        if self.events:
            out.append("  in the logs: " + ", ".join(f"{name} {n}" for name, n in sorted(self.events.items())))
        for name, problems in self.problems.items():
            if problems:
                out.append(f"  {name} log: {sum(problems.values())} warning/error lines, e.g.")
                out += [f"    {n} × {line[:150]}" for line, n in problems.most_common(2)]
        out.append(f"  logs: {self.run_dir}")
        return out


def wait_positioned(lab: Lab, backlog: bl.Backlog, target: int, timeout: float,
                    poll: float = 0.25) -> tuple[int, float]:
    """Poll until `target` deliveries of the backlog are positioned; (count, when)."""
    deadline = time.monotonic() + timeout
    while True:
        done = bl.positioned_count(lab.database_url, backlog.first_message_id, backlog.last_message_id)
        now = time.monotonic()
        if done >= target or now > deadline:
            return done, now
        time.sleep(poll)


# -- 1. priority isolation ----------------------------------------------------

@dataclass
class PriorityConfig:
    backlog: int = 100_000
    offline_recipients: int = 10_000
    online_recipients: int = 10
    high_messages: int = 200
    rate: float = 20.0
    threads: int = 8
    all_processes: int = 2       # Procfile `worker` default (WORKER_PROCESSES)
    modes: tuple[str, ...] = ("all", "split")
    web_workers: int = 1
    warmup: float = 2.0
    timeout: float = 60.0
    log_dir: Path = Path(".bench")


MODES = {
    # Procfile `worker`: one pool on every queue.
    "all": lambda c: [("worker", "all", c.all_processes, c.threads, None)],
    # Procfile split with its defaults: delivery_high 1×8, delivery (normal,low) 2×8, push 1×16.
    "split": lambda c: [("delivery_high", "delivery", 1, c.threads, "high"),
                        ("delivery", "delivery", 2, c.threads, "normal,low"),
                        ("push", "push", 1, 16, None)],
}


def mode_label(config: PriorityConfig, mode: str) -> str:
    return " + ".join(f"{name} {procs}×{threads}" for name, _pool, procs, threads, _lanes in MODES[mode](config))


@dataclass
class HighPhase:
    label: str
    mode: str
    posts: list[Post] = field(default_factory=list)
    rejected: Counter = field(default_factory=Counter)
    window: float = 0.0
    busy: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    low_before: int | None = None     # backlog deliveries positioned when the posting began
    low_after: int | None = None      # … when the last high frame arrived (or the wait ended)
    latencies: list[float] = field(default_factory=list)   # 202→frame ms, sorted
    lost: int = 0
    worker_wait: tuple[float, float] | None = None   # accepted→sent p50/p99 ms (database)
    edge_publish: tuple[float, float] | None = None  # created→queued p50/p99 ms (database)

    @property
    def low_processed(self) -> int | None:
        return None if self.low_before is None else self.low_after - self.low_before

    def p(self, q: float) -> float:
        return pct(self.latencies, q) if self.latencies else float("nan")


@dataclass
class PriorityResult:
    config: PriorityConfig
    phases: list[HighPhase] = field(default_factory=list)
    backlog_line: str = ""
    backlog_total: int = 0
    backlog_done_at_end: int = 0
    receiver_errors: list[str] = field(default_factory=list)
    duplicated_frames: int = 0
    foreign_frames: int = 0
    log: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def busy_summary(self) -> str:
        return ", ".join(f"{p.label.replace(',', '')} {p.busy:.0%}" for p in self.phases)

    def phase(self, label_start: str, mode: str) -> HighPhase | None:
        return next((p for p in self.phases if p.label.startswith(label_start) and p.mode == mode), None)

    def lines(self) -> list[str]:
        c = self.config
        out = [f"priority isolation: {c.high_messages} high messages at {c.rate:g}/s to {c.online_recipients} online "
               f"recipients; low backlog {c.backlog:,} jobs for {c.offline_recipients:,} offline recipients "
               f"(gunicorn -w {c.web_workers} gevent)"]
        if self.backlog_line:
            out.append(self.backlog_line)
        for p in self.phases:
            out.append(f"  [{p.label}] workers: {mode_label(c, p.mode)}")
            if p.latencies:
                out.append(f"    high 202→frame p50 {p.p(50):,.0f} ms  p95 {p.p(95):,.0f} ms  p99 {p.p(99):,.0f} ms  "
                           f"max {p.latencies[-1]:,.0f} ms  ({len(p.latencies)}/{len(p.posts)} arrived, "
                           f"{p.lost} lost)" + (f"; rejected {dict(p.rejected)}" if p.rejected else ""))
            else:
                out.append(f"    no high frame arrived ({len(p.posts)} accepted; rejected {dict(p.rejected)})")
            if p.worker_wait:
                out.append(f"    database: accepted→sent p50 {p.worker_wait[0]:,.0f} / p99 {p.worker_wait[1]:,.0f} ms; "
                           f"edge publish (created→queued) p50 {p.edge_publish[0]:,.0f} / "
                           f"p99 {p.edge_publish[1]:,.0f} ms")
            if p.low_processed is not None:
                out.append(f"    low processed meanwhile {p.low_processed:,} in {p.window:.1f} s "
                           f"({p.low_processed / p.window:,.0f}/s); {self.backlog_total - p.low_after:,} low left")
            out.append(f"    machine CPU busy {p.busy:.0%} over {p.window:.1f} s; CPU s: {cpu_parts(p.cpu)}")
        for mode in c.modes:
            idle, loaded = self.phase("idle", mode), self.phase("backlog", mode)
            if idle and loaded and idle.latencies and loaded.latencies:
                out.append(f"  ratio backlog ÷ idle ({mode}): p50 ×{loaded.p(50) / idle.p(50):.1f}, "
                           f"p99 ×{loaded.p(99) / idle.p(99):.1f}")
        out.append(f"  frames duplicated {self.duplicated_frames}, foreign {self.foreign_frames}"
                   + (f"; client errors: {'; '.join(self.receiver_errors[:2])}" if self.receiver_errors else ""))
        out += self.log
        if self.error:
            out.append(f"  FAILED: {self.error}")
        return out


def post_steady(base_url: str, token: str, recipient_ids: list[int], count: int, rate: float,
                body_prefix: str, tag: str, phase: HighPhase, threads: int = 4) -> None:
    """`count` high messages, message i posted at start + i/rate (a few
    threads, so one slow POST does not shift the schedule)."""
    counter = itertools.count()
    lock = threading.Lock()
    padding = "x" * bl.BODY_CHARS
    start = time.monotonic() + 0.05

    def poster() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        while (i := next(counter)) < count:
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            recipient = i % len(recipient_ids)
            body = f"{body_prefix}{tag}-{i} {padding}"[:bl.BODY_CHARS]
            sent = time.monotonic()
            try:
                response = session.post(f"{base_url}/v1/messages", timeout=30,
                                        json={"to": [recipient_ids[recipient]], "body": body, "priority": "high"})
            except requests.RequestException as e:
                with lock:
                    phase.rejected[type(e).__name__] += 1
                continue
            at = time.monotonic()
            with lock:
                if response.status_code == 202:
                    phase.posts.append(Post(response.json()["id"], recipient, sent, at))
                else:
                    phase.rejected[response.status_code] += 1
        session.close()

    workers = [threading.Thread(target=poster, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def db_percentiles(database_url: str, message_ids: list[int]) -> tuple[tuple[float, float], tuple[float, float]]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        wait = conn.execute(
            "SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - accepted_at)"
            " * 1000) FROM deliveries WHERE message_id = ANY(%s) AND sent_at IS NOT NULL", (message_ids,)).fetchone()[0]
        publish = conn.execute(
            "SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM queued_at - created_at)"
            " * 1000) FROM messages WHERE id = ANY(%s) AND queued_at IS NOT NULL", (message_ids,)).fetchone()[0]
    return tuple(wait or (float("nan"),) * 2), tuple(publish or (float("nan"),) * 2)


def run_priority(config: PriorityConfig) -> PriorityResult:
    result = PriorityResult(config)
    ctx = mp.get_context("spawn")
    receivers = None
    try:
        with Lab("priority", config.log_dir) as lab:
            token, sender, online_ids, tokens, offline_ids = lab.users(config.online_recipients,
                                                                        config.offline_recipients)
            web, base_url = lab.start_web(config.web_workers)
            body_prefix = f"bench-{uuid.uuid4().hex[:8]} "
            ready, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
            received = ctx.Value("q", 0, lock=False)
            receivers = ctx.Process(target=run_receivers, name="bench-receivers", daemon=True,
                                    args=(base_url.replace("http", "ws", 1), tokens, "frame", body_prefix, ready,
                                          stop, received, results, 3600))
            receivers.start()
            connect_by = time.monotonic() + 60
            while not ready.wait(0.2):
                if not receivers.is_alive() or time.monotonic() > connect_by:
                    raise RuntimeError("the WebSocket clients did not connect")
            harness = {os.getpid(), receivers.pid}
            backlog: bl.Backlog | None = None
            expected = 0

            def measure(label: str, mode: str) -> None:
                nonlocal expected
                phase = HighPhase(label, mode)
                result.phases.append(phase)
                print(f"  priority [{label}] starting {mode_label(config, mode)} …", flush=True)
                pools = [lab.start_pool(f"{label.split(',')[0]}-{name}", pool, procs, threads, lanes)
                         for name, pool, procs, threads, lanes in MODES[mode](config)]
                try:
                    time.sleep(config.warmup)  # the pools' prefetch fills; the backlog is being chewed
                    groups = {"edge": web.popen.pid, **{f"workers {p.name.split('-', 1)[1]}": p.popen.pid
                                                        for p in pools}}
                    before = cpu.snapshot(groups, harness, lab.database_name)
                    started = time.monotonic()
                    if backlog:
                        phase.low_before = bl.positioned_count(lab.database_url, backlog.first_message_id,
                                                               backlog.last_message_id)
                    post_steady(base_url, token, online_ids, config.high_messages, config.rate, body_prefix,
                                label.split(",")[0], phase)
                    expected += len(phase.posts)
                    deadline = time.monotonic() + config.timeout
                    while received.value < expected and time.monotonic() < deadline:
                        time.sleep(0.02)
                    phase.window = time.monotonic() - started
                    if backlog:
                        phase.low_after = bl.positioned_count(lab.database_url, backlog.first_message_id,
                                                              backlog.last_message_id)
                    phase.cpu = cpu.difference(before, cpu.snapshot(groups, harness, lab.database_name))
                    phase.busy = busy_share(phase.cpu.get(cpu.MACHINE, 0.0), phase.window)
                finally:
                    for pool in pools:
                        lab.stop(pool)
                if phase.posts:
                    phase.worker_wait, phase.edge_publish = db_percentiles(
                        lab.database_url, [p.message_id for p in phase.posts])

            for mode in config.modes:
                measure(f"idle, {mode}", mode)
            print(f"  priority: building the low backlog ({config.backlog:,} jobs) …", flush=True)
            backlog = bl.insert_messages(lab.database_url, sender, offline_ids, config.backlog, "low",
                                         lab.partitions, f"{body_prefix}low ")
            bl.publish(lab.broker_url, backlog, lab.partitions)
            result.backlog_line = backlog.line("low jobs")
            result.backlog_total = backlog.count
            for mode in config.modes:
                measure(f"backlog, {mode}", mode)
            result.backlog_done_at_end = bl.positioned_count(lab.database_url, backlog.first_message_id,
                                                             backlog.last_message_id)

            stop.set()
            report = results.get(timeout=60)
            receivers.join(10)
            first: dict[tuple[int, int], float] = {}
            per_message: Counter = Counter()
            for recipient, message_id, _pos, at in report.frames:
                per_message[(recipient, message_id)] += 1
                first[(recipient, message_id)] = min(at, first.get((recipient, message_id), at))
            for phase in result.phases:
                keys = [(p.recipient, p.message_id) for p in phase.posts]
                phase.latencies = sorted((first[k] - p.accepted_at) * 1000 for k, p in zip(keys, phase.posts)
                                         if k in first)
                phase.lost = sum(1 for k in keys if k not in first)
            result.duplicated_frames = sum(n - 1 for n in per_message.values())
            result.foreign_frames = len(report.foreign)
            result.receiver_errors = report.errors
            lab.stop(web)
            result.log = lab.log_lines()
    except Exception as e:
        result.error = repr(e)
        traceback.print_exc()
    finally:
        if receivers is not None and receivers.is_alive():
            receivers.kill()
    return result


# -- 2. throughput scaling ------------------------------------------------------

@dataclass
class ScalingConfig:
    jobs: int = 3000  # per run; 4 runs of 5,000 pushed `make bench` past 8 minutes on the shared 2-core box
    recipients: int = 1000
    threads: int = 8
    runs: tuple[tuple[int, int], ...] = ((1, 4), (2, 4), (4, 4), (2, 1))   # (processes, partitions)
    timeout: float = 180.0
    log_dir: Path = Path(".bench")


@dataclass
class ScalingRun:
    processes: int
    partitions: int
    jobs: int
    startup: float = 0.0           # spawn → every process ready
    done_at_ready: int = 0         # deliveries positioned before every process was ready
    positioned: int = 0
    delivery_seconds: float = 0.0  # every process ready → last delivery positioned
    all_seconds: float = 0.0       # every process ready → deliveries positioned and push queue empty
    push_left: int = 0             # push jobs still queued when the last delivery was positioned
    span_seconds: float = 0.0      # first sent_at → last sent_at (database)
    busy: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    backlog_line: str = ""

    @property
    def rate(self) -> float:
        """Messages fully processed per second (delivery job and the push job it
        enqueued) once every process was consuming: the drain rate."""
        n = self.positioned - self.done_at_ready
        return n / self.all_seconds if self.all_seconds > 0 and n > 0 else 0.0

    @property
    def delivery_rate(self) -> float:
        n = self.positioned - self.done_at_ready
        return n / self.delivery_seconds if self.delivery_seconds > 0 and n > 0 else 0.0


@dataclass
class ScalingResult:
    config: ScalingConfig
    runs: list[ScalingRun] = field(default_factory=list)
    raw: RawResult | None = None
    log: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def busy_summary(self) -> str:
        return ", ".join(f"{r.processes}p/{r.partitions}P {r.busy:.0%}" for r in self.runs)

    def base(self) -> float:
        one = next((r for r in self.runs if r.processes == 1 and r.partitions == 4), None)
        return one.rate if one else 0.0

    def lines(self) -> list[str]:
        c = self.config
        out = [f"throughput scaling: {c.jobs:,} preloaded deliver_message jobs per run (normal lane, one recipient "
               f"each, {c.recipients:,} offline recipients: each delivery enqueues a send_push job), "
               f"herald workers --pool all, {c.threads} threads, {os.cpu_count()} CPUs; rates from the moment "
               f"every process was ready"]
        base = self.base()
        for r in self.runs:
            n = r.positioned - r.done_at_ready
            out.append(f"  {r.processes} process(es), {r.partitions} partition(s): drained {r.rate:,.0f} msgs/s "
                       f"(deliveries + push jobs: {n:,} in {r.all_seconds:.1f} s"
                       + (f", ×{r.rate / base:.2f} of 1 process" if base else "") + f"); deliveries alone "
                       f"{r.delivery_rate:,.0f}/s ({r.delivery_seconds:.1f} s, {r.push_left:,} push jobs still queued "
                       f"then); startup {r.startup:.1f} s ({r.done_at_ready:,} done by then); "
                       f"CPU busy {r.busy:.0%}")
            out.append(f"    CPU ms per message: {cpu_parts(r.cpu, max(n, 1), 1000)}; machine "
                       f"{r.cpu.get(cpu.MACHINE, 0) / max(n, 1) * 1000:.1f}")
            if r.positioned < r.jobs or not r.all_seconds:
                out.append(f"    TIMED OUT: {r.positioned:,}/{r.jobs:,} positioned, push queue "
                           f"{'not ' if not r.all_seconds else ''}empty")
        if self.raw is not None:
            out.append(f"  ceiling: raw RabbitMQ end to end (same run, one publisher, {self.raw.label}, "
                       f"one consumer) {self.raw.end_to_end_per_second:,.0f} msg/s")
        out += self.log
        if self.error:
            out.append(f"  FAILED: {self.error}")
        return out


def wait_drained(lab: Lab, backlog: bl.Backlog, run: ScalingRun, ready: float, timeout: float) -> None:
    """Poll the deliveries and the push queue until both are done (twice in a row)."""
    deadline = time.monotonic() + timeout
    empty_since = None
    while time.monotonic() < deadline:
        done = bl.positioned_count(lab.database_url, backlog.first_message_id, backlog.last_message_id)
        push = bl.queue_depths(lab.broker_url, [PUSH_QUEUE])[PUSH_QUEUE]
        now = time.monotonic()
        run.positioned = done
        if done >= backlog.count and not run.delivery_seconds:
            run.delivery_seconds, run.push_left = now - ready, push
        if done >= backlog.count and push == 0:
            if empty_since is not None:
                run.all_seconds = empty_since - ready
                return
            empty_since = now
        else:
            empty_since = None
        time.sleep(0.25)


def run_scaling(config: ScalingConfig, raw: RawResult | None = None) -> ScalingResult:
    result = ScalingResult(config, raw=raw)
    try:
        if result.raw is None:
            print("  scaling: raw RabbitMQ ceiling …", flush=True)
            result.raw = run_raw(20_000, mode=BATCH)
        with Lab("scaling", config.log_dir) as lab:
            _token, sender, _online, _tokens, offline_ids = lab.users(0, config.recipients)
            prefix = f"bench-{uuid.uuid4().hex[:8]} "
            for processes, partitions in config.runs:
                print(f"  scaling: {processes} process(es), {partitions} partition(s) …", flush=True)
                backlog = bl.insert_messages(lab.database_url, sender, offline_ids, config.jobs, "normal",
                                             partitions, prefix)
                bl.publish(lab.broker_url, backlog, partitions)
                run = ScalingRun(processes, partitions, backlog.count, backlog_line=backlog.line("jobs"))
                result.runs.append(run)
                spawned = time.monotonic()
                pool = lab.start_pool(f"scaling-{processes}p-{partitions}P", "all", processes, config.threads,
                                      env={"DELIVERY_PARTITIONS": str(partitions)})
                ready = time.monotonic()
                run.startup = ready - spawned
                groups = {"workers": pool.popen.pid}
                before = cpu.snapshot(groups, {os.getpid()}, lab.database_name)
                run.done_at_ready = bl.positioned_count(lab.database_url, backlog.first_message_id,
                                                        backlog.last_message_id)
                wait_drained(lab, backlog, run, ready, config.timeout)
                run.cpu = cpu.difference(before, cpu.snapshot(groups, {os.getpid()}, lab.database_name))
                run.busy = busy_share(run.cpu.get(cpu.MACHINE, 0.0), time.monotonic() - ready)
                first, last = bl.sent_span(lab.database_url, backlog.first_message_id, backlog.last_message_id)
                run.span_seconds = last - first
                lab.stop(pool)
                # Whatever a timed-out run left would be the next run's work: drop it.
                bl.purge(lab.broker_url, PUSH_QUEUE)
            result.log = lab.log_lines()
    except Exception as e:
        result.error = repr(e)
        traceback.print_exc()
    return result


# -- 3. recovery after kill -9 ---------------------------------------------------

@dataclass
class RecoveryConfig:
    jobs: int = 5000
    recipients: int = 1000
    processes: int = 2
    threads: int = 8
    kill_at: float = 1 / 3
    timeout: float = 180.0
    log_dir: Path = Path(".bench")


@dataclass
class RecoveryResult:
    config: RecoveryConfig
    backlog_line: str = ""
    done_at_kill: int = 0
    ready_before_kill: dict[str, int] = field(default_factory=dict)
    ready_after_kill: dict[str, int] = field(default_factory=dict)
    restart_seconds: float = 0.0   # kill → fresh worker ready
    drain_seconds: float = 0.0     # kill → last delivery positioned
    positioned: int = 0
    first_rate: float = 0.0        # deliveries/s of the first worker before the kill
    verify: dict[str, int] = field(default_factory=dict)
    killed: bool = False
    busy: float = 0.0              # machine CPU busy from the kill to the end of the drain
    log: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def busy_summary(self) -> str:
        return f"{self.busy:.0%}" if self.killed else ""

    def delivery(self, depths: dict[str, int]) -> int:
        return sum(n for q, n in depths.items() if q.startswith("delivery."))

    @property
    def requeued(self) -> int:
        """Delivery jobs the kill handed back (ready after − ready just before)."""
        return self.delivery(self.ready_after_kill) - self.delivery(self.ready_before_kill)

    @property
    def redundant(self) -> int:
        """Requeued jobs whose delivery had been committed (one job per message,
        so queued jobs − unpositioned deliveries)."""
        return self.delivery(self.ready_after_kill) - (self.config.jobs - self.done_at_kill)

    def lines(self) -> list[str]:
        c = self.config
        v = self.verify
        out = [f"recovery: {c.jobs:,} preloaded jobs, herald workers --pool all {c.processes}×{c.threads}; "
               f"kill -9 (process group) at {self.done_at_kill:,} done, then a fresh worker"]
        if self.backlog_line:
            out.append(self.backlog_line)
        if self.killed:
            out += [
                f"  first worker {self.first_rate:,.0f} deliveries/s before the kill",
                f"  drain after the kill {self.drain_seconds:.1f} s ({c.jobs - self.done_at_kill:,} left; "
                f"fresh worker ready after {self.restart_seconds:.1f} s; machine CPU busy {self.busy:.0%})",
                f"  jobs handed back by the kill: delivery {self.requeued} (ready before {self.delivery(self.ready_before_kill):,}"
                f" → after {self.delivery(self.ready_after_kill):,}), push "
                f"{self.ready_after_kill.get(PUSH_QUEUE, 0) - self.ready_before_kill.get(PUSH_QUEUE, 0)}; "
                f"redelivered with their delivery already committed: {self.redundant}",
            ]
        if v:
            out.append(f"  database: {v['sent']:,}/{v['deliveries']:,} deliveries sent ({v['messages']:,} messages), "
                       f"unpositioned {v['unpositioned']}, duplicate rows {v['duplicate_rows']}, positions reused "
                       f"{v['position_reused']}, streams with gaps/mismatch {v['stream_mismatch']}, "
                       f"out of acceptance order {v['out_of_order']}")
            out.append(f"  send_push jobs in the outbox for these messages {v['push_jobs']:,} "
                       f"(one per offline delivery: {v['deliveries']:,}), unpublished {v['push_jobs_unpublished']}")
        out += self.log
        if self.error:
            out.append(f"  FAILED: {self.error}")
        return out


def stable_depths(broker_url: str, queues: list[str], timeout: float = 10.0) -> dict[str, int]:
    """Ready counts once two reads 0.5 s apart agree (the broker has requeued
    the dead connections' unacknowledged messages)."""
    deadline = time.monotonic() + timeout
    last = bl.queue_depths(broker_url, queues)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = bl.queue_depths(broker_url, queues)
        if now == last:
            break
        last = now
    return last


def run_recovery(config: RecoveryConfig) -> RecoveryResult:
    result = RecoveryResult(config)
    try:
        with Lab("recovery", config.log_dir) as lab:
            _token, sender, _online, _tokens, offline_ids = lab.users(0, config.recipients)
            backlog = bl.insert_messages(lab.database_url, sender, offline_ids, config.jobs, "normal",
                                         lab.partitions, f"bench-{uuid.uuid4().hex[:8]} ")
            bl.publish(lab.broker_url, backlog, lab.partitions)
            result.backlog_line = backlog.line("jobs")
            queues = delivery_queues(lab.partitions) + [PUSH_QUEUE]
            print("  recovery: first worker …", flush=True)
            first = lab.start_pool("recovery-first", "all", config.processes, config.threads)
            ready = time.monotonic()
            at_ready = bl.positioned_count(lab.database_url, backlog.first_message_id, backlog.last_message_id)
            done, _ = wait_positioned(lab, backlog, int(config.jobs * config.kill_at), config.timeout, poll=0.1)
            result.ready_before_kill = bl.queue_depths(lab.broker_url, queues)
            busy_before = cpu.machine_busy_seconds()
            lab.kill(first)
            killed = time.monotonic()
            result.first_rate = (done - at_ready) / max(killed - ready, 1e-9)
            result.killed = True
            result.ready_after_kill = stable_depths(lab.broker_url, queues)
            result.done_at_kill = bl.positioned_count(lab.database_url, backlog.first_message_id,
                                                      backlog.last_message_id)
            print(f"  recovery: killed at {result.done_at_kill:,}; fresh worker …", flush=True)
            lab.start_pool("recovery-second", "all", config.processes, config.threads)
            result.restart_seconds = time.monotonic() - killed
            result.positioned, finished = wait_positioned(lab, backlog, backlog.count, config.timeout)
            result.drain_seconds = finished - killed
            result.busy = busy_share(cpu.machine_busy_seconds() - busy_before, time.monotonic() - killed)
            result.verify = bl.verify(lab.database_url, backlog.first_message_id, backlog.last_message_id)
            for process in list(lab.started):
                lab.stop(process)
            result.log = lab.log_lines()
    except Exception as e:
        result.error = repr(e)
        traceback.print_exc()
    return result


# -- command line ------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backlog", type=int, default=100_000, help="priority: low jobs in the backlog")
    parser.add_argument("--high-messages", type=int, default=200, help="priority: high messages per phase")
    parser.add_argument("--high-rate", type=float, default=20.0, help="priority: high messages per second")
    parser.add_argument("--priority-modes", default="all,split",
                        help="priority: worker layouts, any of all (one --pool all) and split (Procfile pools)")
    parser.add_argument("--scaling-jobs", type=int, default=3000, help="scaling: jobs per configuration")
    parser.add_argument("--recovery-jobs", type=int, default=5000, help="recovery: jobs in the backlog")


def configs_from(args: argparse.Namespace) -> tuple[PriorityConfig, ScalingConfig, RecoveryConfig]:
    log_dir = getattr(args, "log_dir", Path(".bench"))
    return (PriorityConfig(backlog=args.backlog, high_messages=args.high_messages, rate=args.high_rate,
                           modes=tuple(m.strip() for m in args.priority_modes.split(",") if m.strip()),
                           log_dir=log_dir),
            ScalingConfig(jobs=args.scaling_jobs, log_dir=log_dir),
            RecoveryConfig(jobs=args.recovery_jobs, log_dir=log_dir))


def summary_rows(priority: PriorityResult | None, scaling: ScalingResult | None,
                 recovery: RecoveryResult | None) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if priority is not None:
        for mode in priority.config.modes:
            idle, loaded = priority.phase("idle", mode), priority.phase("backlog", mode)
            for phase in (idle, loaded):
                if phase and phase.latencies:
                    rows.append((f"high p50/p99, {phase.label}", f"{phase.p(50):,.0f} / {phase.p(99):,.0f} ms"))
            if idle and loaded and idle.latencies and loaded.latencies:
                rows.append((f"high backlog ÷ idle p50/p99 ({mode})",
                             f"×{loaded.p(50) / idle.p(50):.1f} / ×{loaded.p(99) / idle.p(99):.1f}"))
            if loaded and loaded.low_processed is not None and loaded.window:
                rows.append((f"low processed during the high run ({mode})",
                             f"{loaded.low_processed:,} ({loaded.low_processed / loaded.window:,.0f}/s)"))
        if priority.error:
            rows.append(("priority", "FAILED"))
    if scaling is not None:
        base = scaling.base()
        for r in scaling.runs:
            rows.append((f"drain {r.processes} proc × {scaling.config.threads} thr, {r.partitions} partition(s)",
                         f"{r.rate:,.0f} msgs/s" + (f" (×{r.rate / base:.2f})" if base else "")
                         + f", deliveries {r.delivery_rate:,.0f}/s"))
        if scaling.raw is not None:
            rows.append((f"ceiling: raw RabbitMQ end to end ({scaling.raw.label})",
                         f"{scaling.raw.end_to_end_per_second:,.0f} msg/s"))
        if scaling.error:
            rows.append(("scaling", "FAILED"))
    if recovery is not None and recovery.killed:
        v = recovery.verify
        rows.append(("recovery: drain after kill -9 (incl. restart)",
                     f"{recovery.drain_seconds:.1f} s ({recovery.restart_seconds:.1f} s restart)"))
        rows.append(("recovery: requeued / already-committed jobs", f"{recovery.requeued} / {recovery.redundant}"))
        if v:
            rows.append(("recovery: sent / dup rows / reused pos / gaps",
                         f"{v['sent']:,}/{v['deliveries']:,} / {v['duplicate_rows']} / {v['position_reused']} / "
                         f"{v['stream_mismatch']}"))
    if recovery is not None and recovery.error:
        rows.append(("recovery", "FAILED"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts: {', '.join(PARTS)}")
    parser.add_argument("--log-dir", type=Path, default=Path(".bench"))
    add_arguments(parser)
    args = parser.parse_args()
    parts = {p.strip() for p in args.only.split(",")}
    priority_config, scaling_config, recovery_config = configs_from(args)
    priority = scaling = recovery = None
    if "priority" in parts:
        priority = run_priority(priority_config)
        print("\n".join(priority.lines()), flush=True)
    if "scaling" in parts:
        scaling = run_scaling(scaling_config)
        print("\n".join(scaling.lines()), flush=True)
    if "recovery" in parts:
        recovery = run_recovery(recovery_config)
        print("\n".join(recovery.lines()), flush=True)
    rows = summary_rows(priority, scaling, recovery)
    width = max((len(n) for n, _ in rows), default=0)
    print("\n".join(f"  {n:<{width}}  {v:>28}" for n, v in rows))


if __name__ == "__main__":
    main()
