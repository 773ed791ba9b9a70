"""Large groups (issue #8, target 4): a group message to 10, 100, 1,000
and 10,000 online members, time from the send to the LAST member's frame.

Real processes on the real services, as the other benches: one gunicorn
gevent worker (gunicorn.conf.py: it holds every member's socket, so the
frame is built once per process for the whole group) and dramatiq workers,
GROUP_MEMBER_LIMIT raised to the largest group. One mobile user per
member; every member holds a socket opened by asyncio clients in other
processes (tests/load/socket_clients.py), which record each message
frame's arrival and never ack. The groups are nested: the first 10 users,
the first 100, … ; member 0 sends over HTTP (`POST
/v1/conversations/{id}/messages`), one message at a time, the next once
every member (the sender's own socket too) has the frame.

Figures per size: send→first frame and send→last frame p50/p99 (several
messages per size: with 20 the p99 is the slowest), server CPU per message
(gunicorn + dramatiq + our PostgreSQL backends + Redis), frames lost or
repeated. Then the counts per message for 10/100/1,000 online members
(tests/load/bench_counts.py scenarios g10/g100/g1000).

Not a test: nothing here passes or fails on speed.

    .venv/bin/python -m tests.load.bench_groups [--group-sizes 10,100,1000,10000] [--group-messages 20]
"""

from __future__ import annotations

import argparse
import signal
import sys
import os
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from db.migrate import upgrade
from tests.load import cpu
from tests.load.bench_counts import CountsResult, run_counts
from tests.load.bench_oneway import create_users, pct, spawn_worker, stack_env, tear_down
from tests.load.bench_sockets import _Clients, _gunicorn
from tests.support import services
from tests.support.processes import Process

BODY_CHARS = 400
COUNTED_SIZES = ("g10", "g100", "g1000")
SERVER = ("edge (gunicorn)", "workers (dramatiq)", "postgresql (our backends)", "redis")


@dataclass
class GroupsConfig:
    sizes: tuple[int, ...] = (10, 100, 1000, 10_000)
    messages: int = 20
    largest_messages: int = 5  # the largest size: fewer (each costs the whole box for a while)
    client_processes: int = 2
    worker_processes: int = 1
    worker_threads: int = 4
    counts_runs: int = 3
    ws_ping_seconds: int | None = None  # None: Herald's default heartbeat (WS_PING_SECONDS)
    timeout: float = 30.0
    log_dir: Path = Path(".bench")


@dataclass
class SizeRun:
    size: int
    first_ms: list[float] = field(default_factory=list)
    last_ms: list[float] = field(default_factory=list)
    short: int = 0  # messages some member never got within the timeout
    repeated: int = 0  # frames beyond one per member
    cpu_ms: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        first, last = sorted(self.first_ms), sorted(self.last_ms)
        if not last:
            return f"    {self.size:>6,} members: no message reached every member"
        cpu_text = " / ".join(f"{self.cpu_ms.get(c, 0):.1f}" for c in SERVER)
        return (f"    {self.size:>6,} members: send→last frame p50 {pct(last, 50):7.1f} ms  p99 {pct(last, 99):7.1f} ms"
                f"  (first frame p50 {pct(first, 50):6.1f} ms; {len(last)} messages; server CPU per message "
                f"edge / workers / pg / redis {cpu_text} ms)"
                + (f"  SHORT {self.short}" if self.short else "") + (f"  REPEATED {self.repeated}" if self.repeated else ""))


@dataclass
class GroupsResult:
    config: GroupsConfig
    sizes: list[SizeRun] = field(default_factory=list)
    sockets: int = 0
    open_seconds: float = 0.0
    counts: CountsResult | None = None
    log_problems: dict = field(default_factory=dict)
    log_events: Counter = field(default_factory=Counter)
    log_dir: Path | None = None
    error: str | None = None

    def lines(self) -> list[str]:
        c = self.config
        out = [f"large groups: one message at a time to N online members, every member's socket in one gunicorn "
               f"gevent worker ({self.sockets:,} sockets opened in {self.open_seconds:.0f} s by {c.client_processes} "
               f"asyncio client processes, no acks), dramatiq {c.worker_processes}p×{c.worker_threads}t"]
        out += [run.line() for run in self.sizes]
        if self.counts is not None:
            out += ["  counts per message, all members online (in-process, tests/load/bench_counts.py):"]
            out += ["  " + line for line in self.counts.lines()[1:]]
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
        for run in self.sizes:
            last = sorted(run.last_ms)
            if last:
                rows.append((f"group of {run.size:,} online: send→last member's frame p50/p99",
                             f"{pct(last, 50):,.0f} / {pct(last, 99):,.0f} ms"))
        if self.counts is not None:
            rows += [row for row in self.counts.summary_rows()]
        if self.error:
            rows.append(("groups", "FAILED"))
        return rows


def create_group(base_url: str, token: str, member_ids: list[int]) -> int:
    answer = requests.post(f"{base_url}/v1/conversations", headers={"Authorization": f"Bearer {token}"},
                           json={"kind": "group", "title": f"bench {len(member_ids) + 1}", "members": member_ids},
                           timeout=120)
    if answer.status_code != 201:
        raise RuntimeError(f"creating a group of {len(member_ids) + 1} answered {answer.status_code}: "
                           f"{answer.text[:300]}")
    return answer.json()["id"]


def _frames(clients: _Clients) -> dict[int, tuple[int, float, float]]:
    """message id → (frames, first arrival, last arrival), over every client process."""
    merged: dict[int, tuple[int, float, float]] = {}
    for part in clients.arrivals():
        for message_id, (n, first, last) in part.items():
            if message_id in merged:
                m = merged[message_id]
                merged[message_id] = (m[0] + n, min(m[1], first), max(m[2], last))
            else:
                merged[message_id] = (n, first, last)
    return merged


def send_and_wait(session: requests.Session, url: str, size: int, timeout: float, clients: _Clients,
                  run: SizeRun) -> None:
    body = f"bench {uuid.uuid4().hex} " + "x" * BODY_CHARS
    sent = time.monotonic()
    answer = session.post(url, json={"body": body[:BODY_CHARS], "client_msg_id": uuid.uuid4().hex}, timeout=120)
    if answer.status_code != 202:
        raise RuntimeError(f"a group message answered {answer.status_code}: {answer.text[:300]}")
    message_id = answer.json()["id"]
    deadline = sent + timeout
    while True:
        seen = _frames(clients).get(message_id)
        if seen is not None and seen[0] >= size:
            break
        if time.monotonic() > deadline:
            run.short += 1
            return
        time.sleep(0.01 if size <= 1000 else 0.05)
    time.sleep(0.05)
    n, first, last = _frames(clients)[message_id]
    run.repeated += n - size
    run.first_ms.append((first - sent) * 1000)
    run.last_ms.append((last - sent) * 1000)


def run_groups(config: GroupsConfig) -> GroupsResult:
    result = GroupsResult(config)
    run_dir = Path(config.log_dir).resolve() / f"groups-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    result.log_dir = run_dir
    largest = max(config.sizes)
    database_url = broker_url = clients = None
    started: list[Process] = []
    try:
        database_url = services.create_database()
        upgrade(database_url)
        broker_url = services.create_vhost()
        env = {**stack_env(database_url, broker_url, run_dir / "data"), "GROUP_MEMBER_LIMIT": str(largest)}
        if config.ws_ping_seconds:
            env["WS_PING_SECONDS"] = str(config.ws_ping_seconds)
        _, user_ids, tokens = create_users(database_url, env, largest, random.randrange(1_000, 1_000_000) * 1_000_000)
        # Room for the sender's HTTP connection beside every member's socket:
        # a worker holding worker_connections sockets accepts nothing more.
        web, ws_url = _gunicorn("gunicorn", "web.wsgi:app", env, run_dir, conf=True,
                                extra=("--worker-connections", str(largest + 100)))
        started.append(web)
        base_url = ws_url.replace("ws", "http", 1)
        spawn_worker(env, run_dir, config.worker_processes, config.worker_threads, started)
        groups = {size: create_group(base_url, tokens[0], user_ids[1:size]) for size in config.sizes}

        clients = _Clients(ws_url, config.client_processes)
        at = time.monotonic()
        result.sockets, errors = clients.open(tokens)
        result.open_seconds = time.monotonic() - at
        if result.sockets < largest:
            raise RuntimeError(f"only {result.sockets} of {largest} sockets opened: {errors[:3]}")
        time.sleep(2)  # the groups' creation events, replayed or rung, are behind us

        cpu_groups = {"edge (gunicorn)": web.popen.pid, "workers (dramatiq)": started[1].popen.pid}
        database_name = database_url.rsplit("/", 1)[1]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {tokens[0]}"
        for size in config.sizes:
            run = SizeRun(size)
            url = f"{base_url}/v1/conversations/{groups[size]}/messages"
            messages = min(config.messages, config.largest_messages) if size >= 10_000 else config.messages
            before = cpu.snapshot(cpu_groups, {os.getpid()}, database_name)
            for _ in range(messages):
                send_and_wait(session, url, size, config.timeout, clients, run)
                time.sleep(0.1)
            spent = cpu.difference(before, cpu.snapshot(cpu_groups, {os.getpid()}, database_name))
            run.cpu_ms = {c: spent.get(c, 0.0) * 1000 / messages for c in SERVER}
            result.sizes.append(run)
        session.close()
    except Exception as e:
        result.error = f"{type(e).__name__}: {e}"
    finally:
        if clients is not None:
            clients.close()
        tear_down(result, None, started, database_url, broker_url)
    if config.counts_runs:
        result.counts = run_counts(config.counts_runs, scenarios=COUNTED_SIZES)
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group-sizes", default="10,100,1000,10000", help="members per group, one group each")
    parser.add_argument("--group-messages", type=int, default=20, help="messages per group (the 10,000 group: 5)")
    parser.add_argument("--group-clients", type=int, default=2, help="asyncio client processes holding the sockets")
    parser.add_argument("--group-counts-runs", type=int, default=3, help="counted runs per size (0: none)")
    parser.add_argument("--group-ws-ping", type=int, default=None,
                        help="WS_PING_SECONDS for the edge (default: Herald's); longer isolates the fan-out "
                             "from the idle sockets' heartbeats")


def config_from(args: argparse.Namespace) -> GroupsConfig:
    return GroupsConfig(sizes=tuple(int(n) for n in args.group_sizes.split(",")), messages=args.group_messages,
                        client_processes=args.group_clients, counts_runs=args.group_counts_runs,
                        ws_ping_seconds=args.group_ws_ping)


def main() -> None:
    # SIGTERM → SystemExit, so the `finally` blocks stop the stack and drop the database.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    print("\n".join(run_groups(config_from(parser.parse_args())).lines()))


if __name__ == "__main__":
    main()
