"""One-way maximum throughput and the open-loop latency curve (issue #8, targets 1, 3 and 6).

Real processes on the real services, as tests/load/bench_oneway.py: gunicorn
(gevent) and dramatiq workers on a fresh PostgreSQL database and RabbitMQ
vhost. The load comes from asyncio generator processes (tests/load/loadgen.py):
each holds the WebSockets of its share of the recipients, acks every frame,
and posts one-way messages to them over keep-alive HTTP.

1. Maximum, closed loop: C POSTs in flight from one generator process for a
   few seconds; delivered msgs/s = frames at the recipients ÷ (first 202 →
   last frame), so the backlog a closed loop builds is drained inside the
   figure. Meanwhile: CPU per message by component, sweeper republishes
   (target 0), PostgreSQL sessions idle in transaction (average and max).
2. The same with the recipients and the in-flight POSTs split over two
   generator processes: the generator's headroom doubles; the figure must not
   move if the generator is not what limits it.
3. Open loop at 10 / 25 / 50 / 75 % of the measured maximum (one generator),
   then 50 % again over two generators: offered and achieved rate, POST→202
   and POST→frame p50/p99 counted from each message's scheduled time.

Not a test: nothing here passes or fails on speed; the targets are printed as
met / not met.

    .venv/bin/python -m tests.load.bench_latency [-r 50] [-c 16] [--max-seconds 15] [--levels 10,25,50,75]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from db.engine import make_engine
from db.migrate import upgrade
from tests.load import cpu
from tests.load.bench_oneway import (create_users, log_events, log_problems, pct, spawn_web, spawn_worker,
                                     stack_env, stage_percentiles)
from tests.load.loadgen import GeneratorSpec, PhaseReport, run_generator
from tests.load.pgwait import PgWaitSampler
from tests.support import services
from tests.support.processes import Process

SERVER = ("edge (gunicorn)", "workers (dramatiq)", "postgresql (our backends)", "rabbitmq", "redis")
REPUBLISHED = "jobs republished by the outbox sweeper"
# Issue #8, target 3, at half the maximum: (figure, limit in ms)
TARGETS = (("POST→202 p99", 20.0), ("POST→frame p50", 10.0), ("POST→frame p99", 50.0))


@dataclass
class LatencyConfig:
    recipients: int = 50
    concurrency: int = 16
    max_seconds: float = 15.0
    max_messages: int = 20_000
    levels: tuple[float, ...] = (10, 25, 50, 75)
    level_seconds: float = 10.0
    level_min_messages: int = 150   # a low level runs longer (up to 3 × level_seconds) for its p99
    web_workers: int = 2
    worker_processes: int = 2
    worker_threads: int = 8
    drain_timeout: float = 60.0
    log_dir: Path = Path(".bench")


@dataclass
class Phase:
    name: str
    generators: int
    offered: float | None = None            # open loop: the target rate (msg/s)
    reports: list[PhaseReport] = field(default_factory=list)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    window_seconds: float = 0.0
    load_average: float = 0.0               # 1-minute load average at the end
    republished: int = 0
    idle_in_tx: tuple[float, int] = (0.0, 0)  # average, max sessions
    pg_lines: list[str] = field(default_factory=list)

    # -- merged figures --------------------------------------------------------
    @property
    def posts(self) -> list[tuple[int, int, float, float]]:
        return [p for r in self.reports for p in r.posts]

    @property
    def arrivals(self) -> dict[tuple[int, int], float]:
        return {k: v for r in self.reports for k, v in r.arrivals.items()}

    def frame_ms(self) -> list[float]:
        arrivals = self.arrivals
        return sorted((arrivals[(rid, mid)] - sent) * 1000 for mid, rid, sent, _at in self.posts
                      if (rid, mid) in arrivals)

    def http_ms(self) -> list[float]:
        return sorted((at - sent) * 1000 for _mid, _rid, sent, at in self.posts)

    @property
    def lost(self) -> int:
        arrivals = self.arrivals
        return sum(1 for mid, rid, _s, _a in self.posts if (rid, mid) not in arrivals)

    @property
    def sent_per_second(self) -> float:
        span = max((r.send_seconds for r in self.reports), default=0.0)
        return sum(r.sent for r in self.reports) / span if span > 0 else 0.0

    @property
    def delivered_per_second(self) -> float:
        """Our frames ÷ (first 202 → last frame): what the stack sustained, backlog drained."""
        posts, arrivals = self.posts, self.arrivals
        times = [arrivals[(rid, mid)] for mid, rid, _s, _a in posts if (rid, mid) in arrivals]
        if not times:
            return 0.0
        span = max(times) - min(at for _m, _r, _s, at in posts)
        return len(times) / span if span > 0 else 0.0

    @property
    def generator_cpu(self) -> list[float]:
        """Each generator process's share of one core (user + system ÷ wall) over the phase."""
        return [r.cpu_seconds / r.wall_seconds if r.wall_seconds else 0.0 for r in self.reports]

    @property
    def generator_ms_per_message(self) -> float:
        n = len(self.posts)
        return sum(r.cpu_seconds for r in self.reports) * 1000 / n if n else 0.0

    def server_ms_per_message(self) -> dict[str, float]:
        n = len(self.posts)
        return {label: self.cpu_seconds.get(label, 0.0) * 1000 / n for label in SERVER} if n else {}

    @property
    def not_ours_core_share(self) -> float:
        """Busy CPU of processes that are not this run's (other engineers' work), as a share of one core."""
        if not self.window_seconds:
            return 0.0
        ours = sum(v for k, v in self.cpu_seconds.items() if k != cpu.MACHINE)
        return max(0.0, self.cpu_seconds.get(cpu.MACHINE, 0.0) - ours) / self.window_seconds

    @property
    def machine_busy(self) -> float:
        if not self.window_seconds:
            return 0.0
        return self.cpu_seconds.get(cpu.MACHINE, 0.0) / (self.window_seconds * (os.cpu_count() or 1))

    def problems(self) -> str:
        rejected = sum((r.rejected for r in self.reports), Counter())
        late = sum(r.late_sends for r in self.reports)
        dup = sum(r.duplicates for r in self.reports)
        foreign = sum(r.foreign for r in self.reports)
        bits = [f"lost {self.lost}", f"duplicated {dup}"]
        if foreign:
            bits.append(f"FOREIGN {foreign}")
        if rejected:
            bits.append(f"rejected {dict(rejected)}")
        if late:
            bits.append(f"{late} sends > 5 ms late")
        errors = [e for r in self.reports for e in r.errors]
        if errors:
            bits.append(f"{len(errors)} socket errors, e.g. {errors[0][:120]}")
        if any(r.timed_out for r in self.reports):
            bits.append("TIMED OUT waiting for frames")
        return ", ".join(bits)

    def busy_line(self) -> str:
        gens = " + ".join(f"{share:.0%}" for share in self.generator_cpu)
        return (f"generator CPU {gens} of a core ({self.generator_ms_per_message:.2f} ms per message); "
                f"machine {self.machine_busy:.0%} busy, not ours {self.not_ours_core_share:.0%} of a core, "
                f"load average {self.load_average:.1f}")


@dataclass
class LatencyResult:
    config: LatencyConfig
    maximum: Phase | None = None
    maximum_split: Phase | None = None
    levels: list[Phase] = field(default_factory=list)
    half_split: Phase | None = None
    # where the time goes at 50 %, from the deliveries' own timestamps: stage → (p50, p95, p99) ms
    half_stages: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    log_problems: dict[str, Counter] = field(default_factory=dict)
    log_events: Counter = field(default_factory=Counter)
    log_dir: Path | None = None
    error: str | None = None

    @property
    def max_per_second(self) -> float:
        return self.maximum.delivered_per_second if self.maximum else 0.0

    @property
    def delivered_per_second(self) -> float:  # the bench's throughput figure (run_all's ratios)
        return self.max_per_second

    def half(self) -> Phase | None:
        return next((p for p in self.levels if p.name == "50%"), None)

    def verdicts(self) -> list[tuple[str, float, float | None, str]]:
        """Issue #8's latency targets at half the maximum: (figure, limit ms, value ms, verdict)."""
        half = self.half()
        if half is None or not half.posts:
            return []
        figures = {"POST→202 p99": pct(half.http_ms(), 99)}
        frames = half.frame_ms()
        if frames:
            figures["POST→frame p50"], figures["POST→frame p99"] = pct(frames, 50), pct(frames, 99)
        out = []
        for name, limit in TARGETS:
            value = figures.get(name)
            out.append((name, limit, value, "not measured" if value is None else
                        ("met" if value <= limit else "NOT MET")))
        return out

    def target_lines(self) -> list[str]:
        verdicts = self.verdicts()
        if not verdicts:
            return ["  targets at 50 %: not measured"]
        out = [f"  target at 50 %: {name} ≤ {limit:g} ms: {'-' if value is None else f'{value:,.1f} ms'} → {verdict}"
               for name, limit, value, verdict in verdicts]
        half = self.half()
        if half.lost:
            out.append(f"  (at 50 %, {half.lost} frames never arrived: the percentiles cover the others)")
        return out

    def lines(self) -> list[str]:
        c = self.config
        out = [f"one-way, asyncio load generator (tests/load/loadgen.py): R={c.recipients} recipients acking "
               f"every frame, gunicorn -w {c.web_workers} gevent, dramatiq {c.worker_processes}p×{c.worker_threads}t"]
        for phase, title in ((self.maximum, f"maximum, closed loop, {c.concurrency} POSTs in flight, 1 generator"),
                             (self.maximum_split, f"maximum, closed loop, {c.concurrency} POSTs in flight, "
                                                  f"2 generators (R/2 and C/2 each)")):
            if phase is None or not phase.posts:
                continue
            http, frames = phase.http_ms(), phase.frame_ms()
            out.append(f" {title}:")
            out.append(f"  accepted {len(phase.posts) / max(max(r.send_seconds for r in phase.reports), 1e-9):7.1f} msg/s, "
                       f"delivered {phase.delivered_per_second:7.1f} msg/s ({len(frames)} frames; "
                       f"first 202 → last frame)")
            out.append(f"  POST→202 p50/p99 {pct(http, 50):.1f} / {pct(http, 99):.1f} ms; POST→frame p50/p99 "
                       + (f"{pct(frames, 50):.1f} / {pct(frames, 99):.1f} ms" if frames else "-"))
            server = phase.server_ms_per_message()
            out.append(f"  server CPU ms per message {sum(server.values()):.1f}: "
                       + ", ".join(f"{k} {v:.1f}" for k, v in server.items()))
            out.append(f"  {phase.busy_line()}")
            out.append(f"  sweeper republishes {phase.republished} (target 0); PostgreSQL sessions idle in "
                       f"transaction: average {phase.idle_in_tx[0]:.1f}, max {phase.idle_in_tx[1]}")
            out += phase.pg_lines
            out.append(f"  {phase.problems()}")
        if self.levels or self.half_split:
            out.append(f" open loop (sends on schedule; latencies from the scheduled time), maximum "
                       f"{self.max_per_second:.1f} msg/s; 'not ours': other processes' CPU, share of a core:")
            out.append(f"  {'level':<14} {'offered':>8} {'sent':>8} {'delivered':>9}  {'POST→202 p50/p99':>18}  "
                       f"{'POST→frame p50/p99':>20}  gen CPU  not ours  load")
            for phase in (*self.levels, *([self.half_split] if self.half_split else [])):
                http, frames = phase.http_ms(), phase.frame_ms()
                name = phase.name + ("" if phase.generators == 1 else f" ×{phase.generators} gen")
                out.append(f"  {name:<14} {phase.offered:8.1f} {phase.sent_per_second:8.1f} "
                           f"{phase.delivered_per_second:9.1f}  "
                           + (f"{pct(http, 50):8.1f} / {pct(http, 99):6.1f} ms" if http else f"{'-':>18}") + "  "
                           + (f"{pct(frames, 50):8.1f} / {pct(frames, 99):8.1f} ms" if frames else f"{'-':>20}")
                           + f"  {' + '.join(f'{s:.0%}' for s in phase.generator_cpu):>7}  {phase.not_ours_core_share:>8.0%}  "
                           f"{phase.load_average:4.1f}")
                if phase.problems() != "lost 0, duplicated 0":
                    out.append(f"    {name}: {phase.problems()}")
            for stage, (p50, _p95, p99) in self.half_stages.items():
                out.append(f"  at 50 %, stage {stage}: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
            out += self.target_lines()
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

    def summary_rows(self, baseline=None) -> list[tuple[str, str]]:
        rows = []
        for phase, label in ((self.maximum, "1 generator"), (self.maximum_split, "2 generators")):
            if phase is None or not phase.posts:
                continue
            rows.append((f"one-way delivered, closed loop max ({label})", f"{phase.delivered_per_second:,.1f} msg/s"))
            if baseline is not None and baseline.end_to_end_per_second > 0:
                rows.append((f"  ratio ÷ raw batched-confirm baseline ({label})",
                             f"{phase.delivered_per_second / baseline.end_to_end_per_second:.3f}"))
            rows.append((f"  generator CPU ({label})",
                         " + ".join(f"{s:.0%}" for s in phase.generator_cpu) + " of a core"))
            rows.append((f"  machine busy / not ours / load avg ({label})",
                         f"{phase.machine_busy:.0%} / {phase.not_ours_core_share:.0%} core / "
                         f"{phase.load_average:.1f}"))
        if self.maximum is not None and self.maximum.posts:
            server = self.maximum.server_ms_per_message()
            rows.append(("one-way server CPU per message at max", f"{sum(server.values()):.1f} ms"))
            rows.append(("  of which edge / workers / pg / rabbitmq / redis",
                         " / ".join(f"{v:.1f}" for v in server.values()) + " ms"))
            rows.append(("one-way sweeper republishes at max (target 0)", f"{self.maximum.republished}"))
            rows.append(("one-way idle in transaction at max (avg / max)",
                         f"{self.maximum.idle_in_tx[0]:.1f} / {self.maximum.idle_in_tx[1]}"))
        for phase in (*self.levels, *([self.half_split] if self.half_split else [])):
            http, frames = phase.http_ms(), phase.frame_ms()
            if not http:
                continue
            name = phase.name + ("" if phase.generators == 1 else f", {phase.generators} generators")
            rows.append((f"one-way open loop {name}: offered / delivered",
                         f"{phase.offered:,.1f} / {phase.delivered_per_second:,.1f} msg/s"))
            rows.append(("  machine busy / not ours / load avg",
                         f"{phase.machine_busy:.0%} / {phase.not_ours_core_share:.0%} core / {phase.load_average:.1f}"))
            rows.append((f"  POST→202 p50/p99; POST→frame p50/p99",
                         f"{pct(http, 50):,.0f}/{pct(http, 99):,.0f}; "
                         + (f"{pct(frames, 50):,.0f}/{pct(frames, 99):,.0f} ms" if frames else "-")))
        rows += [(f"one-way target at 50 %: {name} ≤ {limit:g} ms",
                  f"{'-' if value is None else f'{value:,.0f} ms'} {verdict}")
                 for name, limit, value, verdict in self.verdicts()]
        if self.error:
            rows.append(("one-way", "FAILED"))
        return rows


# -- the run -------------------------------------------------------------------

class Generators:
    """Generator processes, each with its share of recipients; driven in lockstep, one phase at a time."""

    def __init__(self, ctx, specs: list[GeneratorSpec]):
        self.pipes, self.processes = [], []
        for n, spec in enumerate(specs):
            parent, child = ctx.Pipe()
            process = ctx.Process(target=run_generator, args=(spec, child), name=f"bench-loadgen-{n}", daemon=True)
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)
        for pipe, process in zip(self.pipes, self.processes):
            self._answer(pipe, process, 60, "ready")

    @staticmethod
    def _answer(pipe, process, timeout: float, kind: str):
        if not pipe.poll(timeout):
            raise RuntimeError(f"{process.name} did not answer in {timeout:.0f} s (alive: {process.is_alive()})")
        answer = pipe.recv()
        if answer[0] != kind:
            raise RuntimeError(f"{process.name}: {answer}")
        return answer[1]

    @property
    def pids(self) -> set[int]:
        return {p.pid for p in self.processes}

    def run(self, commands: list[tuple], timeout: float) -> list[PhaseReport]:
        for pipe, command in zip(self.pipes, commands):
            pipe.send(command)
        return [self._answer(pipe, process, timeout, "report") for pipe, process in zip(self.pipes, self.processes)]

    def stop(self) -> None:
        for pipe, process in zip(self.pipes, self.processes):
            try:
                pipe.send(("stop",))
            except OSError:
                pass
            process.join(5)
            if process.is_alive():
                process.kill()


def _worker_republished(worker: Process) -> int:
    return log_events(worker)[REPUBLISHED]


def queued_percentiles(database_url: str, message_ids: list[int]) -> dict[str, tuple[float, float, float]]:
    """accepted → queued per message (the edge's publisher had the broker's confirm and marked the
    message; a delivery row's own `queued_at` stays empty, see outbox.mark_published), p50/p95/p99 ms."""
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            row = conn.execute(text(
                "SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP "
                "(ORDER BY extract(epoch FROM queued_at - created_at) * 1000) FROM messages "
                "WHERE id = ANY(:ids) AND queued_at IS NOT NULL"), {"ids": message_ids}).scalar()
        return {"accepted→queued (the edge published it and marked it)": tuple(row)} if row else {}
    finally:
        engine.dispose()


def run_latency(config: LatencyConfig) -> LatencyResult:
    result = LatencyResult(config)
    run_dir = Path(config.log_dir).resolve() / f"latency-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    result.log_dir = run_dir
    database_url = broker_url = None
    started: list[Process] = []
    fleets: list[Generators] = []
    ctx = mp.get_context("spawn")
    try:
        database_url = services.create_database()
        upgrade(database_url)
        broker_url = services.create_vhost()
        env = {**stack_env(database_url, broker_url, run_dir / "data"),
               # Redis channels are global to the server: keep ours apart from other runs.
               "REDIS_NAMESPACE": f"bench-{uuid.uuid4().hex[:8]}"}
        id_base = random.randrange(1_000, 1_000_000) * 1_000_000
        r = config.recipients
        # Two sets of recipients: one for the single generator, one split over two (a socket per user each).
        sender_token, ids, tokens = create_users(database_url, env, 2 * r, id_base)
        base_url = spawn_web(env, run_dir, config.web_workers, started)
        spawn_worker(env, run_dir, config.worker_processes, config.worker_threads, started)
        web, worker = started
        prefix = f"oneway-{uuid.uuid4().hex[:8]} "

        def spec(lo: int, hi: int) -> GeneratorSpec:
            return GeneratorSpec(base_url, sender_token, ids[lo:hi], tokens[lo:hi], prefix, config.drain_timeout)

        one = Generators(ctx, [spec(0, r)])
        fleets.append(one)
        two = Generators(ctx, [spec(r, r + r // 2), spec(r + r // 2, 2 * r)])
        fleets.append(two)

        groups = {"edge (gunicorn)": web.popen.pid, "workers (dramatiq)": worker.popen.pid}
        harness = {os.getpid()} | one.pids | two.pids
        database_name = database_url.rsplit("/", 1)[1]

        def measured(phase: Phase, fleet: Generators, commands: list[tuple], timeout: float) -> Phase:
            republished = _worker_republished(worker)
            before, window_start = cpu.snapshot(groups, harness, database_name), time.monotonic()
            with PgWaitSampler(database_name) as sampler:
                phase.reports = fleet.run(commands, timeout)
            phase.cpu_seconds = cpu.difference(before, cpu.snapshot(groups, harness, database_name))
            phase.window_seconds = time.monotonic() - window_start
            phase.load_average = os.getloadavg()[0]
            phase.idle_in_tx = (sampler.average("idle in transaction"), sampler.peak["idle in transaction"])
            phase.pg_lines = sampler.lines()[1:]  # the statements behind the waits
            time.sleep(2.5)  # one sweep interval: a republish the phase caused shows in its count
            phase.republished = _worker_republished(worker) - republished
            return phase

        closed_timeout = config.max_seconds + config.drain_timeout + 60
        c = config.concurrency
        print(f"  maximum, 1 generator, {config.max_seconds:g} s …", flush=True)
        result.maximum = measured(Phase("max", 1), one, [("closed", c, config.max_seconds, config.max_messages)],
                                  closed_timeout)
        print(f"  maximum, 2 generators, {config.max_seconds:g} s …", flush=True)
        half_budget = config.max_messages // 2
        result.maximum_split = measured(Phase("max", 2), two,
                                        [("closed", c // 2, config.max_seconds, half_budget),
                                         ("closed", c - c // 2, config.max_seconds, half_budget)], closed_timeout)
        maximum = result.max_per_second
        if maximum <= 0:
            raise RuntimeError("the closed loop delivered nothing: no maximum to take shares of")

        def open_phase(name: str, share: float, fleet: Generators) -> Phase:
            rate = maximum * share / 100
            seconds = min(max(config.level_seconds, config.level_min_messages / rate), 3 * config.level_seconds)
            print(f"  open loop {name}: {rate:.1f} msg/s for {seconds:.0f} s over {len(fleet.pipes)} "
                  f"generator(s) …", flush=True)
            n = len(fleet.pipes)
            start = time.monotonic() + 0.5
            # Generator k sends the messages k, k + n, k + 2n … of one evenly spaced schedule.
            commands = [("open", rate / n, start, seconds, k / n) for k in range(n)]
            phase = Phase(name, n, offered=rate)
            return measured(phase, fleet, commands, seconds + config.drain_timeout + 60)

        for share in config.levels:
            result.levels.append(open_phase(f"{share:g}%", share, one))
            if share == 50:
                ids = [p[0] for p in result.levels[-1].posts]
                result.half_stages = {**queued_percentiles(database_url, ids), **stage_percentiles(database_url, ids)}
        if 50 in config.levels:
            result.half_split = open_phase("50%", 50, two)
        return result
    except Exception as e:  # the phases measured so far still print
        traceback.print_exc()
        result.error = f"{type(e).__name__}: {e}"
        return result
    finally:
        for fleet in fleets:
            fleet.stop()
        for process in started:
            result.log_problems[process.name] = log_problems(process)
            result.log_events.update(log_events(process))
            process.stop()
        if database_url:
            services.drop_database(database_url)
        if broker_url:
            services.delete_vhost(broker_url)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-seconds", type=float, default=15.0, help="closed-loop maximum run (s)")
    parser.add_argument("--levels", default="10,25,50,75", help="open-loop levels, percent of the maximum")
    parser.add_argument("--level-seconds", type=float, default=10.0, help="open-loop time per level (s)")


def config_from(args: argparse.Namespace) -> LatencyConfig:
    return LatencyConfig(recipients=getattr(args, "recipients", 50), concurrency=getattr(args, "concurrency", 16),
                         max_seconds=args.max_seconds,
                         levels=tuple(float(x) for x in args.levels.split(",") if x.strip()),
                         level_seconds=args.level_seconds,
                         web_workers=getattr(args, "web_workers", 2),
                         worker_processes=getattr(args, "worker_processes", 2),
                         worker_threads=getattr(args, "worker_threads", 8),
                         log_dir=getattr(args, "log_dir", Path(".bench")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-r", "--recipients", type=int, default=50, help="online recipients per generator set")
    parser.add_argument("-c", "--concurrency", type=int, default=16, help="POSTs in flight in the closed loop")
    add_arguments(parser)
    print("\n".join(run_latency(config_from(parser.parse_args())).lines()))


if __name__ == "__main__":
    main()
