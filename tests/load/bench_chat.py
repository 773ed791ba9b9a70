"""Group chat end to end in full mode (issue #8, target 4).

Real processes on the real services, as tests/load/bench_oneway.py: gunicorn
(gevent) and dramatiq workers on a fresh PostgreSQL database and RabbitMQ
vhost. One group conversation of 5 mobile members; member 4 holds a
WebSocket (a StreamClient in a separate process, tests/load/receivers.py)
that records every frame and acks it; members 0–3 post chat messages over
HTTP (`POST /v1/conversations/{id}/messages`, a client_msg_id each).

Phase 1, closed loop: the 4 senders post as fast as their answers come back
(one thread and one HTTP connection each) for a few seconds or a message
count. Figures: delivered chat msgs/s (first 202 → last frame at the
receiver), server CPU ms per chat message by component (tests/load/cpu.py),
send→frame latency p50/p99 (here mostly the wait behind the backlog the
senders build: they are answered faster than the frames go out), frames
lost / duplicated / out of seq order, and how busy the machine was.

Phase 2, open loop: one sender offers a fixed rate (10 msg/s) on a schedule,
without waiting for answers (a small thread pool sends each POST at its
time); the receiver's send→frame p50/p99, and the load generator's own CPU.
Its CPU per message includes the stack's idle cost over the window (sweeps,
heartbeats), spread over few messages.

Not a test: nothing here passes or fails on speed.

    .venv/bin/python -m tests.load.bench_chat [--chat-seconds 20] [--chat-rate 10]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from db.migrate import upgrade
from tests.load import cpu
from tests.load.bench_oneway import create_users, pct, spawn_web, spawn_worker, stack_env, tear_down
from tests.load.receivers import ReceiverReport, run_receivers
from tests.support import services
from tests.support.processes import Process

MEMBERS = 5
SENDERS = 4
BODY_CHARS = 200
COMPONENTS = ("edge (gunicorn)", "workers (dramatiq)", "postgresql (our backends)", "rabbitmq", "redis")


@dataclass
class ChatConfig:
    closed_seconds: float = 20.0
    closed_max_messages: int = 3000
    open_rate: float = 10.0
    open_seconds: float = 20.0
    open_pool: int = 16
    web_workers: int = 2
    worker_processes: int = 2
    worker_threads: int = 8
    drain_timeout: float = 60.0
    log_dir: Path = Path(".bench")


@dataclass
class ChatPost:
    message_id: int
    seq: int
    sender: int
    sent_at: float
    accepted_at: float


@dataclass
class Phase:
    """One phase's posts and what the receiver saw of them."""

    name: str
    posts: list[ChatPost] = field(default_factory=list)
    rejected: Counter = field(default_factory=Counter)
    frames: list[tuple[int, int, float]] = field(default_factory=list)  # (message id, position, at), arrival order
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    window_seconds: float = 0.0
    send_seconds: float = 0.0
    timed_out: bool = False
    late_sends: int = 0  # open loop: POSTs that left more than 50 ms after their scheduled time

    @property
    def accepted(self) -> int:
        return len(self.posts)

    def first_arrivals(self) -> dict[int, float]:
        first: dict[int, float] = {}
        for message_id, _pos, at in self.frames:
            first.setdefault(message_id, at)
        return first

    @property
    def delivered_per_second(self) -> float:
        arrivals = self.first_arrivals()
        if not arrivals or not self.posts:
            return 0.0
        span = max(arrivals.values()) - min(p.accepted_at for p in self.posts)
        return len(arrivals) / span if span > 0 else 0.0

    @property
    def accepted_per_second(self) -> float:
        return self.accepted / self.send_seconds if self.send_seconds > 0 else 0.0

    def latencies_ms(self) -> list[float]:
        arrivals = self.first_arrivals()
        return sorted((arrivals[p.message_id] - p.sent_at) * 1000 for p in self.posts if p.message_id in arrivals)

    def integrity(self) -> dict[str, int]:
        seq_of = {p.message_id: p.seq for p in self.posts}
        seen = Counter(m for m, _pos, _at in self.frames)
        out_of_order, highest = 0, 0
        for message_id, _pos, _at in self.frames:
            seq = seq_of.get(message_id, 0)
            if seq < highest:
                out_of_order += 1
            highest = max(highest, seq)
        seqs = sorted(seq_of.values())
        return {
            "lost": len(seq_of.keys() - seen.keys()),
            "duplicated": sum(n - 1 for n in seen.values()),
            "out_of_order": out_of_order,
            "unexpected": len(seen.keys() - seq_of.keys()),
            # the 202s' seqs must be contiguous within the phase (gap-free in the conversation)
            "seq_gaps": (seqs[-1] - seqs[0] + 1 - len(seqs)) if seqs else 0,
        }

    @property
    def machine_busy(self) -> float:
        if not self.window_seconds:
            return 0.0
        return self.cpu_seconds.get(cpu.MACHINE, 0.0) / (self.window_seconds * (os.cpu_count() or 1))

    def cpu_ms_per_message(self) -> dict[str, float]:
        if not self.accepted:
            return {}
        return {label: self.cpu_seconds.get(label, 0.0) * 1000 / self.accepted for label in COMPONENTS}

    @property
    def elsewhere_core_share(self) -> float:
        """Busy CPU not counted to this run's processes (another engineer's work, services' housekeeping),
        as a share of one core."""
        if not self.window_seconds:
            return 0.0
        ours = sum(seconds for label, seconds in self.cpu_seconds.items() if label != cpu.MACHINE)
        return max(0.0, self.cpu_seconds.get(cpu.MACHINE, 0.0) - ours) / self.window_seconds

    @property
    def server_ms_per_message(self) -> float:
        return sum(self.cpu_ms_per_message().values())

    @property
    def generator_core_share(self) -> float:
        """The benchmark's own processes (senders and receiver), as a share of one core."""
        if not self.window_seconds:
            return 0.0
        return self.cpu_seconds.get("benchmark clients", 0.0) / self.window_seconds

    def lines(self, header: str) -> list[str]:
        lat = self.latencies_ms()
        integ = self.integrity()
        http = sorted((p.accepted_at - p.sent_at) * 1000 for p in self.posts)
        out = [header,
               f"  accepted   {self.accepted_per_second:7.1f} msg/s  "
               f"({self.accepted} × 202 in {self.send_seconds:.1f} s)"
               + (f"; rejected {dict(self.rejected)}" if self.rejected else ""),
               f"  delivered  {self.delivered_per_second:7.1f} msg/s  ({len(self.first_arrivals())} frames at the "
               f"receiver, first 202 → last frame)"]
        if http:
            out.append(f"  POST→202 p50 {pct(http, 50):.1f} ms  p99 {pct(http, 99):.1f} ms")
        if lat:
            out.append(f"  latency send→frame p50 {pct(lat, 50):.1f} ms  p99 {pct(lat, 99):.1f} ms  "
                       f"max {lat[-1]:.1f} ms")
        out.append(f"  frames lost {integ['lost']}, duplicated {integ['duplicated']}, out of seq order "
                   f"{integ['out_of_order']}, unexpected {integ['unexpected']}; seq gaps in the 202s "
                   f"{integ['seq_gaps']}")
        if self.accepted and self.cpu_seconds:
            parts = ", ".join(f"{label} {ms:.1f}" for label, ms in self.cpu_ms_per_message().items())
            out.append(f"  server CPU ms per chat message: {self.server_ms_per_message:.1f} ({parts})")
            out.append(f"  over the {self.window_seconds:.1f} s window: machine {self.machine_busy:.0%} busy "
                       f"({os.cpu_count()} CPUs, everything on it); load generator {self.generator_core_share:.0%} "
                       f"of one core ({self.cpu_seconds.get('benchmark clients', 0.0):.1f} CPU s); "
                       f"not ours {self.elsewhere_core_share:.0%} of one core")
        if self.late_sends:
            out.append(f"  {self.late_sends} POSTs left more than 50 ms after their scheduled time")
        if self.timed_out:
            out.append("  TIMED OUT waiting for frames: figures cover what arrived")
        return out


@dataclass
class ChatResult:
    config: ChatConfig
    closed: Phase = field(default_factory=lambda: Phase("closed"))
    open: Phase = field(default_factory=lambda: Phase("open"))
    receivers: ReceiverReport = field(default_factory=ReceiverReport)
    log_problems: dict[str, Counter] = field(default_factory=dict)
    log_events: Counter = field(default_factory=Counter)
    log_dir: Path | None = None
    error: str | None = None

    def lines(self) -> list[str]:
        c = self.config
        out = [f"group chat end to end: {MEMBERS} members, {SENDERS} posting over HTTP, 1 on a WebSocket acking "
               f"every frame (gunicorn -w {c.web_workers} gevent, dramatiq {c.worker_processes}p×"
               f"{c.worker_threads}t)"]
        out += self.closed.lines(f" phase 1, closed loop: {SENDERS} senders as fast as answers come, "
                                 f"{c.closed_seconds:.0f} s or {c.closed_max_messages} messages")
        out += self.open.lines(f" phase 2, open loop: 1 sender offering {c.open_rate:g} msg/s for "
                               f"{c.open_seconds:.0f} s (sends on schedule, {c.open_pool} sending threads)")
        if self.receivers.foreign:
            out.append(f"  FOREIGN frames {len(self.receivers.foreign)}, e.g. {self.receivers.foreign[:2]}")
        if self.receivers.other_frames:
            out.append(f"  other frames at the receiver: {dict(sorted(self.receivers.other_frames.items()))}")
        if self.receivers.reconnects or self.receivers.errors:
            out.append(f"  receiver: {self.receivers.reconnects} reconnects; " + "; ".join(self.receivers.errors[:3]))
        if self.log_events:
            out.append("  in the logs: " + ", ".join(f"{name} {n}" for name, n in sorted(self.log_events.items())))
        for name, problems in self.log_problems.items():
            if problems:
                out.append(f"  {name} log: {sum(problems.values())} warning/error lines, e.g.")
                out += [f"    {n} × {line[:150]}" for line, n in problems.most_common(3)]
        if self.error:
            out.append(f"  FAILED: {self.error}")
        if self.log_dir:
            out.append(f"  logs: {self.log_dir}")
        return out

    def summary_rows(self) -> list[tuple[str, str]]:
        rows = []
        for phase, label in ((self.closed, "closed loop, 4 senders"), (self.open, "open loop")):
            if not phase.posts:
                continue
            lat = phase.latencies_ms()
            integ = phase.integrity()
            if phase is self.closed:
                rows.append((f"chat delivered ({label}, first 202 → last frame)",
                             f"{phase.delivered_per_second:,.1f} msg/s"))
                rows.append(("chat server CPU per message (edge+workers+pg+rabbit+redis)",
                             f"{phase.server_ms_per_message:,.1f} ms"))
                rows.append(("  of which edge / workers / pg / rabbitmq / redis",
                             " / ".join(f"{ms:.1f}" for ms in phase.cpu_ms_per_message().values()) + " ms"))
            else:
                rows.append((f"chat offered ({label})", f"{self.config.open_rate:g} msg/s"))
            if lat:
                rows.append((f"chat send→frame p50/p99 ({label})", f"{pct(lat, 50):,.0f} / {pct(lat, 99):,.0f} ms"))
            rows.append((f"chat frames lost / duplicated / out of order ({label})",
                         f"{integ['lost']} / {integ['duplicated']} / {integ['out_of_order']}"))
            rows.append((f"machine CPU busy during chat {label} (not ours)",
                         f"{phase.machine_busy:.0%} ({phase.elsewhere_core_share:.0%} of a core)"))
            if phase is self.open:
                rows.append(("chat open-loop load generator CPU", f"{phase.generator_core_share:.0%} of one core"))
        if self.error:
            rows.append(("chat", "FAILED"))
        return rows


# -- the run -------------------------------------------------------------------

def _session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def create_group(base_url: str, tokens: list[str], member_ids: list[int]) -> int:
    with _session(tokens[0]) as session:
        answer = session.post(f"{base_url}/v1/conversations", timeout=30,
                              json={"kind": "group", "title": "bench", "members": member_ids[1:]})
    if answer.status_code != 201:
        raise RuntimeError(f"creating the group answered {answer.status_code}: {answer.text[:300]}")
    return answer.json()["id"]


def _post_one(session: requests.Session, url: str, body: str, sender: int, phase: Phase,
              lock: threading.Lock) -> None:
    sent = time.monotonic()
    try:
        response = session.post(url, json={"body": body, "client_msg_id": uuid.uuid4().hex}, timeout=30)
    except requests.RequestException as e:
        with lock:
            phase.rejected[type(e).__name__] += 1
        return
    at = time.monotonic()
    with lock:
        if response.status_code == 202:
            answer = response.json()
            phase.posts.append(ChatPost(answer["id"], answer["seq"], sender, sent, at))
        else:
            phase.rejected[response.status_code] += 1


def closed_loop(url: str, tokens: list[str], prefix: str, config: ChatConfig, phase: Phase) -> None:
    lock = threading.Lock()
    padding = "x" * BODY_CHARS
    counter = iter(range(config.closed_max_messages))
    deadline = time.monotonic() + config.closed_seconds

    def sender(index: int) -> None:
        with _session(tokens[index]) as session:
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                _post_one(session, url, f"{prefix}c{i} {padding}"[:BODY_CHARS], index, phase, lock)

    threads = [threading.Thread(target=sender, args=(n,), name=f"chat-sender-{n}", daemon=True)
               for n in range(SENDERS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    phase.send_seconds = time.monotonic() - started


def open_loop(url: str, token: str, prefix: str, config: ChatConfig, phase: Phase) -> None:
    """Sends on a fixed schedule; each POST runs on a pool thread (its own connection)
    so a slow answer delays no later send."""
    lock = threading.Lock()
    padding = "x" * BODY_CHARS
    local = threading.local()
    count = int(config.open_rate * config.open_seconds)
    interval = 1.0 / config.open_rate

    def send(i: int, due: float) -> None:
        if not hasattr(local, "session"):
            local.session = _session(token)
        if time.monotonic() - due > 0.05:
            with lock:
                phase.late_sends += 1
        _post_one(local.session, url, f"{prefix}o{i} {padding}"[:BODY_CHARS], 0, phase, lock)

    start = time.monotonic() + 0.1
    with ThreadPoolExecutor(max_workers=config.open_pool, thread_name_prefix="chat-open") as pool:
        for i in range(count):
            due = start + i * interval
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, i, due)
    phase.send_seconds = time.monotonic() - start


def _wait_frames(received, target: int, timeout: float) -> bool:
    """True when `target` message frames arrived in time."""
    deadline = time.monotonic() + timeout
    while received.value < target:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def run_chat(config: ChatConfig) -> ChatResult:
    result = ChatResult(config)
    run_dir = Path(config.log_dir).resolve() / f"chat-{time.strftime('%Y%m%d-%H%M%S')}"
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
        id_base = random.randrange(1_000, 1_000_000) * 1_000_000  # far from other runs sharing Redis
        _business, member_ids, tokens = create_users(database_url, env, MEMBERS, id_base)

        base_url = spawn_web(env, run_dir, config.web_workers, started)
        spawn_worker(env, run_dir, config.worker_processes, config.worker_threads, started)
        web, worker = started
        conversation_id = create_group(base_url, tokens, member_ids)
        url = f"{base_url}/v1/conversations/{conversation_id}/messages"

        prefix = f"chat-{uuid.uuid4().hex[:8]} "
        ready, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
        received = ctx.Value("q", 0, lock=False)
        receiver_deadline = (config.closed_seconds + config.open_seconds + 2 * config.drain_timeout + 120)
        receivers = ctx.Process(target=run_receivers, name="chat-receiver", daemon=True,
                                args=(base_url.replace("http", "ws", 1), [tokens[SENDERS]], "frame", prefix,
                                      ready, stop, received, results, receiver_deadline))
        receivers.start()
        connect_by = time.monotonic() + 60
        while not ready.wait(0.2):
            if not receivers.is_alive() or time.monotonic() > connect_by:
                report = results.get(timeout=5) if not receivers.is_alive() else None
                raise RuntimeError(f"the WebSocket client did not connect: {report and report.errors}")

        groups = {"edge (gunicorn)": web.popen.pid, "workers (dramatiq)": worker.popen.pid}
        harness = {os.getpid(), receivers.pid}
        database_name = database_url.rsplit("/", 1)[1]

        def measured(phase: Phase, send, frames_before: int) -> None:
            before, window_start = cpu.snapshot(groups, harness, database_name), time.monotonic()
            send()
            phase.timed_out = not _wait_frames(received, frames_before + phase.accepted, config.drain_timeout)
            phase.cpu_seconds = cpu.difference(before, cpu.snapshot(groups, harness, database_name))
            phase.window_seconds = time.monotonic() - window_start

        measured(result.closed, lambda: closed_loop(url, tokens, prefix, config, result.closed), 0)
        time.sleep(1.0)  # let acks and receipts settle before the open loop
        measured(result.open, lambda: open_loop(url, tokens[0], prefix, config, result.open),
                 result.closed.accepted)
        time.sleep(0.5)  # a moment for late duplicates
        stop.set()
        result.receivers = results.get(timeout=60)
        receivers.join(10)

        phase_of = {p.message_id: result.closed for p in result.closed.posts}
        phase_of.update({p.message_id: result.open for p in result.open.posts})
        for _recipient, message_id, position, at in result.receivers.frames:
            phase_of.get(message_id, result.closed).frames.append((message_id, position, at))
        return result
    finally:
        tear_down(result, receivers, started, database_url, broker_url)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chat-seconds", type=float, default=20.0, help="closed-loop phase length (s)")
    parser.add_argument("--chat-messages", type=int, default=3000, help="closed-loop phase: at most this many")
    parser.add_argument("--chat-rate", type=float, default=10.0, help="open-loop offered rate (msg/s)")
    parser.add_argument("--chat-open-seconds", type=float, default=20.0, help="open-loop phase length (s)")


def config_from(args: argparse.Namespace) -> ChatConfig:
    return ChatConfig(closed_seconds=args.chat_seconds, closed_max_messages=args.chat_messages,
                      open_rate=args.chat_rate, open_seconds=args.chat_open_seconds,
                      web_workers=getattr(args, "web_workers", 2),
                      worker_processes=getattr(args, "worker_processes", 2),
                      worker_threads=getattr(args, "worker_threads", 8),
                      log_dir=getattr(args, "log_dir", Path(".bench")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    print("\n".join(run_chat(config_from(parser.parse_args())).lines()))


if __name__ == "__main__":
    main()
