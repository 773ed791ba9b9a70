"""Idle WebSockets held by one edge process (issue #8, target 5).

One gunicorn gevent worker (`-w 1`, gunicorn.conf.py's worker_connections)
holds N idle sockets opened by asyncio clients in other processes
(tests/load/socket_clients.py), so the clients' memory is not the
server's. The worker's RSS is read from /proc before (after a warm-up of a
few sockets) and after each step (1,000, then 10,000 sockets in all), and
the growth divided by the sockets opened. The same run measures a bare
flask-sock app (tests/load/bare_socket_app.py) under the same worker as
the baseline. Herald runs in full mode (PostgreSQL, Redis, RabbitMQ), one
distinct mobile user per socket; its worker's CPU while the sockets idle
(heartbeats) is printed too.

Not a test: nothing here passes or fails on memory.

    .venv/bin/python -m tests.load.bench_sockets [--socket-counts 1000,10000] [--socket-clients 2]
"""

from __future__ import annotations

import argparse
import signal
import sys
import multiprocessing as mp
import random
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

from db.migrate import upgrade
from tests.load import socket_clients
from tests.load.bench_oneway import create_users, stack_env
from tests.support import services
from tests.support.processes import BIN, ROOT, Process, free_port, wait_http

WARM_UP = 20
SETTLE_SECONDS = 3.0
IDLE_SECONDS = 10.0
OPEN_TIMEOUT = 600.0


@dataclass
class SocketsConfig:
    counts: tuple[int, ...] = (1000, 10_000)
    client_processes: int = 2
    log_dir: Path = Path(".bench")


@dataclass
class Step:
    sockets: int  # held by the worker at this step, the warm-up's included
    rss_kib: int
    open_seconds: float
    incomplete: bool = False  # the clients did not all get their `ready` in time


@dataclass
class MemoryRun:
    name: str
    rss_warm_kib: int = 0
    rss_start_kib: int = 0
    steps: list[Step] = field(default_factory=list)
    idle_cpu_seconds: float | None = None
    idle_window: float = 0.0
    errors: list[str] = field(default_factory=list)

    def per_socket_kib(self, step: Step) -> float:
        return (step.rss_kib - self.rss_warm_kib) / max(1, step.sockets - WARM_UP)


@dataclass
class SocketsResult:
    config: SocketsConfig
    runs: list[MemoryRun] = field(default_factory=list)
    limits: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    log_dir: Path | None = None

    def lines(self) -> list[str]:
        out = [f"idle WebSockets in one gunicorn gevent worker (clients: {self.config.client_processes} asyncio "
               f"processes; RSS growth after a warm-up of {WARM_UP} sockets ÷ sockets opened)"]
        for run in self.runs:
            out.append(f"  {run.name}: worker RSS {run.rss_start_kib / 1024:.0f} MiB at start, "
                       f"{run.rss_warm_kib / 1024:.0f} MiB after the warm-up")
            for step in run.steps:
                if step.incomplete:
                    out.append(f"    {step.sockets:>6,} sockets: NOT ALL OPEN after {step.open_seconds:.0f} s "
                               f"(RSS then {step.rss_kib / 1024:.1f} MiB)")
                    continue
                out.append(f"    {step.sockets:>6,} sockets: RSS {step.rss_kib / 1024:7.1f} MiB, "
                           f"{run.per_socket_kib(step):6.1f} KiB per socket (opened in {step.open_seconds:.1f} s)")
            if run.idle_cpu_seconds is not None and run.steps:
                out.append(f"    idle at {run.steps[-1].sockets:,} sockets: worker CPU "
                           f"{run.idle_cpu_seconds / run.idle_window:.1%} of a core over {run.idle_window:.0f} s")
            for error in run.errors[:3]:
                out.append(f"    client error: {error}")
        for name, value in self.limits.items():
            out.append(f"  {name}: {value}")
        if self.error:
            out.append(f"  FAILED: {self.error}")
        if self.log_dir:
            out.append(f"  logs: {self.log_dir}")
        return out

    def summary_rows(self) -> list[tuple[str, str]]:
        rows = []
        for run in self.runs:
            for step in run.steps:
                rows.append((f"sockets: {run.name}, KiB per idle socket at {step.sockets:,}",
                             "not all open" if step.incomplete else f"{run.per_socket_kib(step):,.1f} KiB"))
        if "sockets one edge worker holds (default settings)" in self.limits:
            rows.append(("sockets: one edge worker holds (default settings)",
                         self.limits["sockets one edge worker holds (default settings)"].split(" (")[0]))
        if self.error:
            rows.append(("sockets", "FAILED"))
        return rows


# -- measuring -------------------------------------------------------------------

def worker_pid(master: int, timeout: float = 20.0) -> int:
    """The one gunicorn worker under `master`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat[stat.rindex(")") + 2:].split()[1]) == master:
                    return int(entry.name)
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn {master} has no worker")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / 100


def worker_connections() -> int:
    namespace: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), namespace)
    return int(namespace.get("worker_connections", 1000))


def box_limits() -> dict[str, str]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low, high = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    connections = worker_connections()
    holds = min(connections, soft - 100)
    return {
        "open files per process (ulimit -n, soft / hard)": f"{soft:,} / {hard:,}",
        "gunicorn worker_connections (gunicorn.conf.py)": f"{connections:,}",
        "sockets one edge worker holds (default settings)":
            f"{holds:,} (the lower of worker_connections and the file limit less ~100 for pools and logs; "
            f"× WEB_CONCURRENCY workers, default 1)",
        "local ports per client address (ip_local_port_range)": f"{high - low + 1:,}",
    }


class _Clients:
    """K asyncio client processes, sockets dealt round robin."""

    def __init__(self, ws_url: str, processes: int):
        ctx = mp.get_context("spawn")
        self.pipes, self.processes = [], []
        for n in range(processes):
            parent, child = ctx.Pipe()
            process = ctx.Process(target=socket_clients.run, args=(ws_url, child), name=f"socket-clients-{n}",
                                  daemon=True)
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)

    def open(self, tokens: list[str], timeout: float = 600) -> tuple[int, list[str]]:
        k = len(self.pipes)
        for n, pipe in enumerate(self.pipes):
            pipe.send(("open", tokens[n::k]))
        opened, errors = 0, []
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise RuntimeError("a socket client process did not answer")
            _, n, errs = pipe.recv()
            opened += n
            errors += errs
        return opened, errors

    def arrivals(self) -> list[dict]:
        for pipe in self.pipes:
            pipe.send(("arrivals",))
        return [pipe.recv()[1] for pipe in self.pipes]

    def close(self) -> None:
        for pipe, process in zip(self.pipes, self.processes):
            try:
                if process.is_alive():
                    pipe.send(("close",))
                    pipe.poll(30) and pipe.recv()
            except (OSError, EOFError):
                pass
            process.join(5)
            if process.is_alive():
                process.kill()


def measure(name: str, ws_url: str, pid: int, tokens: list[str], config: SocketsConfig) -> MemoryRun:
    run = MemoryRun(name)
    run.rss_start_kib = rss_kib(pid)
    clients = _Clients(ws_url, config.client_processes)
    try:
        held, errors = clients.open(tokens[:WARM_UP])
        time.sleep(SETTLE_SECONDS)
        run.rss_warm_kib = rss_kib(pid)
        for target in config.counts:
            started = time.monotonic()
            try:
                opened, errors = clients.open(tokens[held:target], OPEN_TIMEOUT)
            except RuntimeError as e:  # what the worker holds then is still worth a line
                run.errors.append(f"step to {target:,}: {e} within {OPEN_TIMEOUT:.0f} s")
                run.steps.append(Step(target, rss_kib(pid), time.monotonic() - started, incomplete=True))
                return run
            run.errors += errors
            held += opened
            seconds = time.monotonic() - started
            time.sleep(SETTLE_SECONDS)
            run.steps.append(Step(held, rss_kib(pid), seconds))
        before, at = cpu_seconds(pid), time.monotonic()
        time.sleep(IDLE_SECONDS)
        run.idle_cpu_seconds, run.idle_window = cpu_seconds(pid) - before, time.monotonic() - at
        return run
    finally:
        clients.close()


def _gunicorn(name: str, app: str, env: dict, log_dir: Path, conf: bool, extra: tuple[str, ...] = ()) -> tuple[Process, str]:
    port = free_port()
    settings = (["-c", str(ROOT / "gunicorn.conf.py")] if conf
                else ["-c", "/dev/null", "-k", "gevent", "--worker-connections", str(worker_connections())])
    argv = [str(BIN / "gunicorn"), *settings, *extra, "-w", "1", "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5",
            app]
    process = Process(name, argv, env, log_dir)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", process=process)
    except BaseException:
        process.stop()
        raise
    return process, f"ws://127.0.0.1:{port}"


def run_sockets(config: SocketsConfig) -> SocketsResult:
    result = SocketsResult(config, limits=box_limits())
    run_dir = Path(config.log_dir).resolve() / f"sockets-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    result.log_dir = run_dir
    most = max(config.counts)
    database_url = broker_url = None
    try:
        # The baseline: the bare app needs no tokens (any string will do).
        process, ws_url = _gunicorn("bare-flask-sock", "tests.load.bare_socket_app:app", {}, run_dir, conf=False)
        try:
            result.runs.append(measure("bare flask-sock app", ws_url, worker_pid(process.popen.pid),
                                       [f"t{n}" for n in range(most)], config))
        finally:
            process.stop()

        database_url = services.create_database()
        upgrade(database_url)
        broker_url = services.create_vhost()
        env = stack_env(database_url, broker_url, run_dir / "data")
        _, _, tokens = create_users(database_url, env, most, random.randrange(1_000, 1_000_000) * 1_000_000)
        process, ws_url = _gunicorn("herald", "web.wsgi:app", env, run_dir, conf=True)
        try:
            result.runs.append(measure("Herald", ws_url, worker_pid(process.popen.pid), tokens, config))
        finally:
            process.stop()
        return result
    finally:
        if database_url:
            services.drop_database(database_url)
        if broker_url:
            services.delete_vhost(broker_url)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--socket-counts", default="1000,10000",
                        help="sockets held at each step, cumulative (default 1000,10000)")
    parser.add_argument("--socket-clients", type=int, default=2, help="asyncio client processes")


def config_from(args: argparse.Namespace) -> SocketsConfig:
    return SocketsConfig(counts=tuple(int(n) for n in args.socket_counts.split(",")),
                         client_processes=args.socket_clients)


def main() -> None:
    # SIGTERM → SystemExit, so the `finally` blocks stop the stack and drop the database.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    print("\n".join(run_sockets(config_from(parser.parse_args())).lines()))


if __name__ == "__main__":
    main()
