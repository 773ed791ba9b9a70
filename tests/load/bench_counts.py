"""Counts per message: what one message costs in SQL statements,
transactions, commits, broker publishes and waits, Redis commands and round
trips, and jobs (outbox rows) — per component, counted, not timed, so a
busy machine does not change them (issue #8).

The real code paths in one process of their own, on the real PostgreSQL,
RabbitMQ and Redis (a fresh database, vhost and Redis namespace):

- the edge is `web.create_app(settings)` as full mode builds it (its own
  BatchPublisher to RabbitMQ, Redis realtime and presence), driven through
  Flask's test client; only the queue-depth poller is replaced by a fixed
  depth (a once-a-second background poll, not per-message work);
- the workers are `workers.broker` as `dramatiq workers.main` builds it
  (RabbitmqBroker with confirms, `worker_ports`), their actors' functions
  run here (`broker.get_actor(name).fn`), push through the LoggingSender;
- both publishers are wrapped to record the jobs they were handed (and
  still publish them to RabbitMQ and mark them), so this process runs every
  job itself, in order, deterministically;
- an ack is the socket's AckBuffer noting the frame's position and flushing.

Counted from outside (tests/load/counters.py): SQLAlchemy engine events,
redis-py's Redis/Pipeline, pika's Channel. The edge publisher's thread is
booked as its own component; everything is flushed, published and marked
before a component's count closes. Jobs are outbox rows written (counted in
the database). Each scenario runs once to warm up, then several times; the
per-message figures are those runs' averages and must be identical in every
run (a `~` marks one that is not).

Not counted: the socket side of a ring (Redis pub/sub → frame; no SQL or
Redis command unless a gap is replayed), the consumer's basic.ack of each
job (no round trip), Dramatiq middleware around an actor (acts on failures
and ticks), one-off work the warm-up does (connections, queue declares).

    .venv/bin/python -m tests.load.bench_counts [--runs 5] [--rate-limits]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.load import cpu
from tests.load.counters import FIELDS, Tally
from tests.support import services

REPO = Path(__file__).resolve().parents[2]  # the child runs `-m tests.load.bench_counts` from here
JWT_SECRET = "bench-secret-" + "x" * 40
BODY_CHARS = 400  # as bench_oneway: with the frame's envelope about the raw baseline's 512 bytes

ACCEPT = "edge: accept (HTTP)"
PUBLISHER = "edge: publisher thread"
ACK = "edge: ack (AckBuffer flush)"
WORKER_PUBLISHER = "worker: publisher thread"  # none today: workers publish in the job's own thread
ORDER = (ACCEPT, PUBLISHER, "worker: deliver_message", "worker: send_push", "worker: fan_out_event",
         WORKER_PUBLISHER, ACK)
COLUMNS = (("runs", "runs"), ("SQL", "statements"), ("tx", "transactions"), ("commit", "commits"),
           ("publish", "publishes"), ("brokerRT", "broker_round_trips"), ("redis cmd", "redis_commands"),
           ("redis RT", "redis_round_trips"), ("jobs", "jobs"))

SCENARIOS = {
    "a": "(a) one-way → 1 online recipient, acked",
    "b": "(b) one-way → 1 offline recipient with 1 device (push)",
    "c": "(c) chat, 10-member group: 1 online (acks → receipt), 9 offline (5 with a device)",
    "d": "(d) chat, 10-member group: all 10 online, each acks (→ receipts)",
    "e": "(e) chat, 100-member group: 1 online (acks), 99 offline (50 with a device) — growth with offline members",
    # Large groups (tests/load/bench_groups.py), not in the default run:
    "g10": "(g10) chat, 10-member group: all online, no acks",
    "g100": "(g100) chat, 100-member group: all online, no acks",
    "g1000": "(g1000) chat, 1,000-member group: all online, no acks",
}
DEFAULT_SCENARIOS = ("a", "b", "c", "d", "e")
SHORT = {"a": "one-way online", "b": "one-way offline+push", "c": "group 10, 1 online", "d": "group 10, all online",
         "e": "group 100, 1 online", "g10": "group 10 online", "g100": "group 100 online",
         "g1000": "group 1,000 online"}


# -- the result (parent side) ------------------------------------------------------

@dataclass
class ScenarioCounts:
    key: str
    title: str
    runs: list[dict[str, dict]] = field(default_factory=list)  # per run: component → tally fields

    def components(self) -> list[str]:
        seen = {c for run in self.runs for c in run}

        def place(component: str) -> tuple[int, str]:
            if component in ORDER:
                return ORDER.index(component), ""
            # another thread's work: beside its side's publisher
            side = ORDER.index(WORKER_PUBLISHER if component.startswith("worker") else PUBLISHER)
            return side, component
        return sorted(seen, key=place)

    def per_message(self, component: str) -> tuple[dict[str, float], set[str]]:
        """Averages over the runs, and the fields that differed between runs."""
        values = {name: [run.get(component, {}).get(name, 0) for run in self.runs] for name in FIELDS}
        return ({name: sum(v) / len(v) for name, v in values.items()},
                {name for name, v in values.items() if len(set(v)) > 1})

    def total(self) -> tuple[dict[str, float], set[str]]:
        totals = [Tally() for _ in self.runs]
        for tally, run in zip(totals, self.runs):
            for values in run.values():
                tally.add(Tally(**values))
        values = {name: [getattr(t, name) for t in totals] for name in FIELDS}
        return ({name: sum(v) / len(v) for name, v in values.items()},
                {name for name, v in values.items() if len(set(v)) > 1})


@dataclass
class CountsResult:
    scenarios: list[ScenarioCounts] = field(default_factory=list)
    warmups: int = 1
    rate_limits: bool = False   # off: as the bench's stack runs (flask-limiter's Redis calls not counted)
    ack_path: str = ""
    other_threads: list[str] = field(default_factory=list)
    problems: list[tuple[str, int]] = field(default_factory=list)  # (warning/error line, times) logged
    seconds: float = 0.0
    machine_busy: float = 0.0
    error: str | None = None

    @property
    def identical(self) -> bool:
        return all(not s.per_message(c)[1] for s in self.scenarios for c in s.components())

    def lines(self) -> list[str]:
        runs = len(self.scenarios[0].runs) if self.scenarios else 0
        out = [f"counts per message (in-process edge and workers on the real PostgreSQL, RabbitMQ, Redis; "
               f"{self.warmups} warm-up + {runs} counted runs per scenario, one message each; "
               f"rate limits {'on' if self.rate_limits else 'off, as in the bench stack'}; "
               f"identical in every run: {'yes' if self.identical else 'NO (~ marks averages that varied)'})"]
        head = f"  {'component':<34}" + "".join(f"{label:>10}" for label, _ in COLUMNS)
        for scenario in self.scenarios:
            out += ["", f"  {scenario.title}", head]
            for component in scenario.components():
                out.append(_row(f"  {component}", *scenario.per_message(component)))
            out.append(_row("  total per message", *scenario.total()))
        out += [
            "",
            "  runs: HTTP requests, jobs run or ack flushes per message; SQL: cursor executions (executemany once);",
            "  tx: transactions begun (tx − commit: ended by rollback, e.g. read-only); publish: AMQP basic.publish;",
            "  brokerRT: waits for the broker (confirm frames received + tx.commits); redis RT: a command alone or a",
            "  pipeline; jobs: outbox rows written. The edge publisher's threads: one batch per request here (their",
            f"  worst case; under load a batch carries many messages). Ack path: {self.ack_path or 'n/a'}.",
            f"  counted in {self.seconds:.1f} s; machine CPU busy meanwhile {self.machine_busy:.0%} "
            f"(of {os.cpu_count()} CPUs, every process; counts do not depend on it)",
        ]
        if self.other_threads:
            out.append(f"  threads that did counted work besides the caller: {', '.join(sorted(self.other_threads))}")
        if self.problems:
            out.append(f"  WARNING: {sum(n for _, n in self.problems)} warning/error lines logged while counting "
                       f"(counts may be short of the real path), e.g.")
            out += [f"    {n} × {line}" for line, n in self.problems[:4]]
        if self.error:
            out.append(f"  FAILED: {self.error}")
        return out

    def summary_rows(self) -> list[tuple[str, str]]:
        rows = []
        for scenario in self.scenarios:
            total, varied = scenario.total()
            mark = "~" if varied else ""
            rows.append((f"per msg ({scenario.key}) {SHORT[scenario.key]}: SQL/commit/publish/redis RT/jobs",
                         f"{mark}{_n(total['statements'])} / {_n(total['commits'])} / {_n(total['publishes'])} / "
                         f"{_n(total['redis_round_trips'])} / {_n(total['jobs'])}"))
        return rows


def _n(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _row(label: str, values: dict[str, float], varied: set[str]) -> str:
    cells = []
    for _, name in COLUMNS:
        text = _n(values[name]) if values[name] or name != "runs" else "-"
        cells.append(f"{('~' if name in varied else '') + text:>10}")
    return f"  {label:<34}" + "".join(cells)


# -- the parent: resources, the child process, clean-up ---------------------------

def run_counts(runs: int = 5, warmups: int = 1, timeout: float = 180.0, rate_limits: bool = False,
               scenarios: tuple[str, ...] = DEFAULT_SCENARIOS) -> CountsResult:
    """Count in a fresh process (its class-level instruments stay there) on
    a fresh database, vhost and Redis namespace; remove them afterwards."""
    result = CountsResult(warmups=warmups, rate_limits=rate_limits)
    database_url = broker_url = None
    namespace = f"herald-counts-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory(prefix="herald-counts-") as tmp:
        try:
            from db.migrate import upgrade

            database_url = services.create_database()
            upgrade(database_url)
            broker_url = services.create_vhost()
            out = Path(tmp) / "counts.json"
            env = {**os.environ, "DATABASE_URL": database_url, "BROKER_URL": broker_url,
                   "REDIS_URL": services.bench_redis_url(), "REDIS_NAMESPACE": namespace, "JWT_SECRET": JWT_SECRET,
                   "HERALD_DATA_DIR": str(Path(tmp) / "data"), "RATE_LIMITS": "on" if rate_limits else "off",
                   "HERALD_DEMO": "off", "GROUP_MEMBER_LIMIT": "1000"}
            busy_before, started = cpu.machine_busy_seconds(), time.monotonic()
            child = subprocess.run([sys.executable, "-m", "tests.load.bench_counts", "--child", str(out),
                                    "--runs", str(runs), "--warmups", str(warmups),
                                    "--scenarios", ",".join(scenarios)],
                                   env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
            result.seconds = time.monotonic() - started
            result.machine_busy = ((cpu.machine_busy_seconds() - busy_before)
                                   / (result.seconds * (os.cpu_count() or 1)))
            if child.returncode != 0 or not out.exists():
                result.error = f"counting process exited {child.returncode}: {child.stderr.strip()[-3000:]}"
                return result
            data = json.loads(out.read_text())
            result.scenarios = [ScenarioCounts(s["key"], s["title"], s["runs"]) for s in data["scenarios"]]
            result.ack_path = data["ack_path"]
            result.other_threads = data["other_threads"]
            result.problems = [tuple(p) for p in data.get("problems", [])]
            result.error = data.get("error")
            return result
        finally:
            if database_url:
                services.drop_database(database_url)
            if broker_url:
                services.delete_vhost(broker_url)
            _forget_namespace(namespace)


def _forget_namespace(namespace: str) -> None:
    import redis

    try:
        client = redis.Redis.from_url(services.bench_redis_url())
        keys = list(client.scan_iter(f"{namespace}:*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass


# -- the child: the edge and the workers in this process ---------------------------

class RecordingPublisher:
    """The production publisher, noting each job it is handed so the bench
    runs it here; publishing and marking still happen as in production."""

    def __init__(self, inner, jobs: list):
        self._inner = inner
        self._jobs = jobs

    def submit(self, jobs) -> None:
        jobs = list(jobs)
        self._jobs.extend(jobs)
        self._inner.submit(jobs)

    def flush(self, timeout: float = 10.0) -> bool:
        return self._inner.flush(timeout)

    def __getattr__(self, name):
        return getattr(self._inner, name)


class Problems(logging.Handler):
    """Warnings and errors logged while counting: a count that is low
    because something failed (and was logged, not raised) must show."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.seen: Counter = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        first = record.getMessage().splitlines()[0][:160]
        if record.exc_info and record.exc_info[1] is not None:
            first += f" ({type(record.exc_info[1]).__name__}: {str(record.exc_info[1]).splitlines()[0][:120]})"
        self.seen[f"{record.levelname} {record.name}: {first}"] += 1


class Lab:
    """The edge app, the worker runtime, the counters and a bookkeeping
    connection (plain psycopg: never counted)."""

    def __init__(self, counters):
        import dataclasses
        import logging

        import psycopg

        from config import load_settings
        from db.engine import make_engine, make_session_factory
        from rabbitmq.depths import FixedDepth
        from realtime import make_realtime
        from web import create_app
        from workers import broker as worker_broker
        from workers import delivery, fan_out, push  # noqa: F401  (registers the actors)
        from workers.push_sender import LoggingSender

        logging.basicConfig(level=logging.WARNING)
        self.problems = Problems()
        logging.getLogger().addHandler(self.problems)
        self.counters = counters
        self.settings = load_settings()
        if getattr(getattr(worker_broker, "settings", None), "broker_url", self.settings.broker_url) \
                != self.settings.broker_url:
            raise RuntimeError("workers.broker was imported before the environment was set")
        self.jobs: list = []
        self.app = create_app(self.settings, depths=FixedDepth(0), test_config={"TESTING": True})
        self.res = self.app.extensions["herald"]
        self.res.ports = dataclasses.replace(self.res.ports,
                                             publisher=RecordingPublisher(self.res.ports.publisher, self.jobs))
        self.client = self.app.test_client()
        sessions = make_session_factory(make_engine(self.settings.database_url))
        ports = worker_broker.worker_ports(self.settings, sessions,
                                           make_realtime(self.settings.redis_url, self.settings.redis_namespace))
        worker_broker.install_ports(dataclasses.replace(ports, publisher=RecordingPublisher(ports.publisher,
                                                                                            self.jobs)),
                                    push_sender=LoggingSender())
        self.worker_publisher = worker_broker.runtime().ports.publisher
        self.broker = worker_broker.broker
        self.db = psycopg.connect(self.settings.database_url, autocommit=True)
        self.ack_path = ""
        self._phones = iter(range(10_000_000))
        self._roles: dict[int, str] = {}
        self.online: list[int] = []

    # -- bookkeeping ------------------------------------------------------------
    def scalar(self, sql: str, *params):
        return self.db.execute(sql, params).fetchone()[0]

    def outbox_rows(self) -> int:
        return self.scalar("SELECT count(*) FROM outbox")

    def wait_published(self, timeout: float = 15.0) -> None:
        """Both publishers flushed, and every job is marked published."""
        self.res.ports.publisher.flush(timeout)
        self.worker_publisher.flush(timeout)
        deadline = time.monotonic() + timeout
        while self.scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
            if time.monotonic() > deadline:
                raise RuntimeError("outbox rows left unpublished: the publisher did not take them")
            time.sleep(0.005)

    def check(self, ok: bool, what: str) -> None:
        """A scenario's outcome not as expected: reported with the problems."""
        if not ok:
            self.problems.seen[f"CHECK {what}"] += 1

    def check_outcome(self, message_id: int, acked: list[int], pushes: int) -> None:
        statuses = dict(self.db.execute("SELECT recipient_id, status FROM deliveries WHERE message_id = %s",
                                        (message_id,)).fetchall())
        self.check(all(statuses.get(u) in ("delivered", "read") for u in acked),
                   "an acked delivery is not 'delivered'")
        self.check(not any(s in ("accepted", "queued") for s in statuses.values()), "a delivery was not placed")
        done = self.scalar("SELECT count(*) FROM pushes WHERE message_id = %s AND status IN ('logged', 'sent')",
                           message_id)
        self.check(done == pushes, f"{done} pushes logged where {pushes} were expected")

    def position(self, message_id: int, user_id: int) -> int:
        return self.scalar("SELECT position FROM deliveries WHERE message_id = %s AND recipient_id = %s",
                           message_id, user_id)

    # -- setup (not counted) ------------------------------------------------------
    def user(self, role: str = "mobile", device: bool = False, online: bool = False) -> int:
        from datetime import datetime, timezone

        from db.engine import UnitOfWork
        from usecases.accounts.devices import register_device
        from usecases.accounts.users import create_user

        now = datetime.now(timezone.utc)
        with UnitOfWork(self.res.ports.sessions) as uow:
            fields = ({"phone": f"+6691{next(self._phones):07d}"} if role == "mobile"
                      else {"username": f"bench-{uuid.uuid4().hex[:8]}", "name": "Bench"})
            user = create_user(uow.session, role=role, now=now, **fields)
            uow.session.flush()
            if device:
                register_device(uow.session, user_id=user.id, platform="android",
                                token=f"bench-token-{user.id}", now=now)
            uow.commit()
            user_id = self._roles_add(user.id, role)
        if online:
            self.online.append(user_id)
            self.heartbeat(user_id)
        return user_id

    def heartbeat(self, user_id: int) -> None:
        """A live session, as a socket's heartbeat writes it."""
        self.res.ports.presence.refresh_session(user_id, f"bench-socket-{user_id}", "online",
                                                time.time() + 24 * 3600, time.time(), 3600)

    def heartbeats(self) -> None:
        """Before each run (not counted), in case the sessions were lost
        (bench_redis_url keeps them away from the test suites' flushes)."""
        for user_id in self.online:
            self.heartbeat(user_id)

    def _roles_add(self, user_id: int, role: str) -> int:
        self._roles[user_id] = role
        return user_id

    def headers(self, user_id: int) -> dict:
        from web.auth.tokens import issue_access_token

        token = issue_access_token(self.res.tokens, user_id=user_id, role=self._roles[user_id])
        return {"Authorization": f"Bearer {token}"}

    def group(self, owner: int, members: list[int]) -> int:
        answer = self.client.post("/v1/conversations", json={"kind": "group", "title": "Bench",
                                                             "members": members}, headers=self.headers(owner))
        if answer.status_code != 201:
            raise RuntimeError(f"group not created: {answer.status_code} {answer.get_json()}")
        self.wait_published()
        self.run_jobs(counted=False)
        return answer.get_json()["id"]

    # -- counted work --------------------------------------------------------------
    def counted(self, component: str, work):
        before = self.outbox_rows()
        with self.counters.phase(component):
            answer = work()
            self.wait_published()
        self.counters.add(component, runs=1, jobs=self.outbox_rows() - before)
        return answer

    def run_jobs(self, counted: bool = True) -> None:
        """Every job handed to a publisher so far (and those they start), in order."""
        while self.jobs:
            job = self.jobs.pop(0)
            actor = self.broker.get_actor(job.actor_name)
            if counted:
                self.counted(f"worker: {_family(job.actor_name)}", lambda: actor.fn(*job.args))
            else:
                actor.fn(*job.args)

    def post(self, path: str, body: dict, sender: int) -> int:
        answer = self.client.post(path, json=body, headers=self.headers(sender))
        if answer.status_code != 202:
            raise RuntimeError(f"POST {path}: {answer.status_code} {answer.get_json()}")
        return answer.get_json()["id"]

    def ack(self, user_id: int, position: int) -> None:
        """What the socket does with an ack frame: note it, flush the burst."""
        import threading
        from datetime import datetime, timezone

        try:
            from web.ws.acks import AckBuffer
            buffer = AckBuffer(self.res, user_id)
        except (ImportError, TypeError):  # the buffer changed shape: the use case it calls
            from usecases.messaging.acks import record_acks
            self.ack_path = "record_acks (the use case; AckBuffer not constructible here)"
            record_acks(self.res.ports, user_id, position, 0, datetime.now(timezone.utc))
            return
        self.ack_path = "web.ws.acks.AckBuffer: note('ack', position), flush()"
        buffer.note("ack", position)
        buffer.flush()
        for thread in threading.enumerate():  # its delayed flush would find nothing left to write
            if isinstance(thread, threading.Timer):
                thread.cancel()
                thread.join(2)


def _family(actor_name: str) -> str:
    """Delivery lanes share one use case: book them together."""
    return "deliver_message" if actor_name.startswith("deliver_message") else actor_name


def _body(n: int) -> str:
    return (f"counts {n} " + "x" * BODY_CHARS)[:BODY_CHARS]


def _scenarios(lab: Lab, wanted: tuple[str, ...]):
    """Each scenario: a function that sends one message and runs everything it causes."""
    business = lab.user("business")
    online = lab.user(online=True)
    offline = lab.user(device=True)
    counter = iter(range(1_000_000))

    def oneway_online():
        message = lab.counted(ACCEPT, lambda: lab.post("/v1/messages", {"to": [online], "body": _body(next(counter))},
                                                       business))
        lab.run_jobs()
        position = lab.position(message, online)
        lab.counted(ACK, lambda: lab.ack(online, position))
        lab.run_jobs()
        lab.check_outcome(message, [online], pushes=0)

    def oneway_offline():
        message = lab.counted(ACCEPT, lambda: lab.post("/v1/messages", {"to": [offline], "body": _body(next(counter))},
                                                       business))
        lab.run_jobs()
        lab.check_outcome(message, [], pushes=1)

    def group(members: list[int], online_members: list[int], pushes: int):
        sender = members[0]
        conversation = lab.group(sender, members[1:])

        def send():
            message = lab.counted(ACCEPT, lambda: lab.post(
                f"/v1/conversations/{conversation}/messages",
                {"body": _body(next(counter)), "client_msg_id": uuid.uuid4().hex}, sender))
            lab.run_jobs()
            for member in online_members:
                position = lab.position(message, member)
                lab.counted(ACK, lambda: lab.ack(member, position))
            lab.run_jobs()
            lab.check_outcome(message, [m for m in online_members if m != sender], pushes)
        return send

    # (g<N>) large groups: N members, all holding a session, nobody acks
    # (the delivery's cost alone: rings, no receipts).
    large = {key: group([lab.user(online=True) for _ in range(int(key[1:]))], [], pushes=0)
             for key in wanted if key.startswith("g")}
    if not set(wanted) & set(DEFAULT_SCENARIOS):
        return large
    # (c) the sender (posting over HTTP, no socket) + 8 others offline, 1 online;
    # the sender and 4 of the offline others have a device, 4 have none.
    sender_c = lab.user(device=True)
    online_c = lab.user(online=True)
    offline_c = [lab.user(device=n < 4) for n in range(8)]
    # (d) all 10 hold a session (the sender too: its own copy comes as a frame as well).
    members_d = [lab.user(device=True, online=True) for _ in range(10)]
    # (e) as (c) with 100 members: the sender and 49 of the 98 offline others have a device.
    sender_e = lab.user(device=True)
    online_e = lab.user(online=True)
    offline_e = [lab.user(device=n % 2 == 0) for n in range(98)]
    return {
        "a": oneway_online,
        "b": oneway_offline,
        "c": group([sender_c, online_c, *offline_c], [online_c], pushes=4),
        "d": group(members_d, members_d, pushes=0),
        "e": group([sender_e, online_e, *offline_e], [online_e], pushes=49),
        **large,
    }


def _other_thread(phase: str, thread_name: str) -> str:
    """Another thread's work while a phase is open: the publisher of that side, or the thread by name."""
    if "publish" in thread_name.lower():
        return WORKER_PUBLISHER if phase.startswith("worker") else PUBLISHER
    return f"{phase.split(':')[0]}: thread {thread_name}"


def child_main(out: Path, runs: int, warmups: int, wanted: tuple[str, ...] = DEFAULT_SCENARIOS) -> None:
    from tests.load.counters import Counters

    counters = Counters(_other_thread)
    counters.install()  # before any engine, client or channel exists
    lab = Lab(counters)
    data = {"scenarios": [], "ack_path": "", "other_threads": [], "problems": [], "error": None}
    try:
        for key, send in _scenarios(lab, wanted).items():
            if key not in wanted:
                continue
            scenario = {"key": key, "title": SCENARIOS[key], "runs": []}
            for n in range(warmups + runs):
                lab.heartbeats()
                counters.take()
                send()
                tallies = counters.take()
                if n >= warmups:
                    scenario["runs"].append({c: t.as_dict() for c, t in tallies.items()})
            data["scenarios"].append(scenario)
    except Exception as e:
        import traceback

        traceback.print_exc()
        data["error"] = f"{type(e).__name__}: {e}"
    data["ack_path"] = lab.ack_path
    data["other_threads"] = sorted(counters.other_threads)
    data["problems"] = lab.problems.seen.most_common()
    out.write_text(json.dumps(data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="counted runs per scenario (after the warm-up)")
    parser.add_argument("--warmups", type=int, default=1)
    parser.add_argument("--rate-limits", action="store_true",
                        help="count with flask-limiter on (RATE_LIMITS=on, the production default)")
    parser.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS),
                        help=f"comma-separated, of {','.join(SCENARIOS)}")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, args.runs, args.warmups, tuple(args.scenarios.split(",")))
        return
    result = run_counts(args.runs, args.warmups, rate_limits=args.rate_limits,
                        scenarios=tuple(args.scenarios.split(",")))
    print("\n".join(result.lines()))
    sys.exit(1 if result.error else 0)


if __name__ == "__main__":
    main()
