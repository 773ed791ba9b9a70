"""`make bench`: the raw RabbitMQ baseline (publisher confirms per batch of
100; a confirm per publish as a second line), the counts per message
(statements, commits, publishes, Redis round trips, jobs per component;
tests/load/bench_counts.py), the end-to-end one-way bench (an asyncio load
generator in processes of its own: the maximum in a closed loop, then the
open-loop latency curve at shares of it; tests/load/bench_latency.py), the group chat
bench (closed loop, then a fixed offered rate; tests/load/bench_chat.py) and the pipeline
benchmarks (priority isolation, throughput scaling, recovery after kill -9;
tests/load/bench_pipeline.py), webhooks (events/s to one endpoint vs status
changes/s, lag; tests/load/bench_webhooks.py), large groups (tests/load/bench_groups.py)
and idle sockets (tests/load/bench_sockets.py), in the same run on the same machine, and
their ratios to the baseline. `make bench BENCH_ARGS="--only raw,oneway"` runs some parts.

Not a test: it prints figures and exits 0 unless something crashed. Each
bench removes its own database, vhost and processes in `finally`; SIGTERM
is turned into SystemExit so those blocks run on `kill` too.

    .venv/bin/python -m tests.load.run_all [-n 20000] [--raw-single-messages 3000] [--counts-runs 5]
        [-r 50] [-c 16] [--max-seconds 15] [--levels 10,25,50,75] [--level-seconds 10]
        [--only raw,counts,oneway,priority,scaling,recovery,chat,webhooks,groups,sockets]
        [--chat-seconds 20] [--chat-rate 10] [--chat-open-seconds 20]
        [--backlog 100000] [--scaling-jobs 5000] …
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback
from dataclasses import dataclass

from tests.load import bench_chat, bench_groups, bench_pipeline, bench_sockets, bench_webhooks
from tests.load.bench_counts import CountsResult, run_counts
from tests.load import bench_latency
from tests.load.bench_latency import LatencyResult
from tests.load.bench_oneway import add_arguments
from tests.load.raw_rabbitmq import BATCH, CONFIRM_BATCH, SINGLE, RawResult, run_raw

PARTS = ("raw", "counts", "oneway", *bench_pipeline.PARTS, "chat", "webhooks")
EXTRA_PARTS = ("groups", "sockets")  # tests/load/bench_groups.py, bench_sockets.py: summary rows of their own


@dataclass
class Baselines:
    """Raw RabbitMQ: the baseline (confirms per batch) and the confirm-per-publish line."""

    batched: RawResult | None = None
    single: RawResult | None = None
    error: str | None = None

    def lines(self) -> list[str]:
        out = []
        for result in (self.batched, self.single):
            if result is not None:
                out += result.lines()
        if self.error:
            out.append(f"  FAILED: {self.error}")
        return out


def run_baselines(batch_messages: int, single_messages: int) -> Baselines:
    """The batched baseline first; a failure of one still leaves the other."""
    result = Baselines()
    for attribute, job in (("batched", lambda: run_raw(batch_messages, mode=BATCH, batch=CONFIRM_BATCH)),
                           ("single", lambda: run_raw(single_messages, mode=SINGLE))):
        try:
            setattr(result, attribute, job())
        except Exception as e:
            traceback.print_exc()
            result.error = f"{attribute}: {type(e).__name__}: {e}"
    return result


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


def summary(raw: Baselines | None, counts: CountsResult | None, oneway: LatencyResult | None, priority=None,
            scaling=None, recovery=None, chat=None, webhooks=None, extra=()) -> list[str]:
    rows = []
    batched = raw.batched if raw is not None else None
    single = raw.single if raw is not None else None
    if batched is not None:
        rows += [(f"raw RabbitMQ end to end, {batched.label} (BASELINE)",
                  f"{batched.end_to_end_per_second:,.0f} msg/s"),
                 (f"raw RabbitMQ published, {batched.label}", f"{batched.published_per_second:,.0f} msg/s")]
    if single is not None:
        rows += [(f"raw RabbitMQ end to end, {single.label}", f"{single.end_to_end_per_second:,.0f} msg/s")]
    if batched is not None or single is not None:
        rows.append(("machine CPU busy during the raw baseline (batch / per publish)",
                     " / ".join(f"{r.machine_busy:.0%}" if r else "-" for r in (batched, single))))
    if oneway is not None:
        rows += oneway.summary_rows(batched)
    if counts is not None:
        rows += counts.summary_rows()
        if counts.error:
            rows.append(("counts", "FAILED"))
        elif counts.problems:
            rows.append(("counts: warnings/errors logged meanwhile", f"{sum(n for _, n in counts.problems)}"))
    rows += bench_pipeline.summary_rows(priority, scaling, recovery)
    for part in extra:
        rows += part.summary_rows()
    if chat is not None:
        rows += chat.summary_rows()
    if webhooks is not None:
        rows += webhooks.summary_rows()
    for name, part in (("priority", priority), ("scaling", scaling), ("recovery", recovery)):
        if part is not None and part.busy_summary:
            rows.append((f"machine CPU busy during {name}", part.busy_summary))
    width = max((len(name) for name, _ in rows), default=0)
    return ["", "summary (same run, same machine; not a pass/fail test)",
            *(f"  {name:<{width}}  {value:>24}" for name, value in rows)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--raw-messages", type=int, default=20_000,
                        help=f"raw RabbitMQ baseline messages, confirms per batch of {CONFIRM_BATCH} (N)")
    parser.add_argument("--raw-single-messages", type=int, default=3000,
                        help="raw RabbitMQ messages with a confirm per publish (the second line)")
    parser.add_argument("--counts-runs", type=int, default=5, help="counted runs per scenario (after a warm-up)")
    parser.add_argument("--only", default=",".join(PARTS + EXTRA_PARTS),
                        help=f"comma-separated parts to run (default: all): {','.join(PARTS + EXTRA_PARTS)}")
    add_arguments(parser)
    bench_latency.add_arguments(parser)
    bench_pipeline.add_arguments(parser)
    bench_chat.add_arguments(parser)
    bench_groups.add_arguments(parser)
    bench_sockets.add_arguments(parser)
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS + EXTRA_PARTS)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS + EXTRA_PARTS)}")
    signal.signal(signal.SIGTERM, _terminate)
    priority_config, scaling_config, recovery_config = bench_pipeline.configs_from(args)

    started = time.monotonic()
    results: dict[str, object] = {}
    crashed = False

    def run(part: str, announce: str, job) -> None:
        """One part; a crash is printed and the next part still runs."""
        nonlocal crashed
        if part not in parts:
            return
        print(announce, flush=True)
        try:
            results[part] = job()
            print("\n".join(results[part].lines()), flush=True)
            crashed = crashed or bool(getattr(results[part], "error", None))
        except Exception:
            crashed = True
            traceback.print_exc()

    try:
        run("raw", f"raw RabbitMQ baseline: {args.raw_messages} messages, confirms per batch of {CONFIRM_BATCH}; "
                   f"then {args.raw_single_messages} with a confirm per publish …",
            lambda: run_baselines(args.raw_messages, args.raw_single_messages))
        run("counts", f"\ncounts per message: {args.counts_runs} runs per scenario …",
            lambda: run_counts(args.counts_runs))
        run("oneway", f"\none-way end to end, asyncio load generator: maximum (closed loop, {args.concurrency} "
                      f"in flight, {args.recipients} recipients), then open loop at {args.levels} % of it …",
            lambda: bench_latency.run_latency(bench_latency.config_from(args)))
        run("chat", f"\ngroup chat: {bench_chat.SENDERS} senders closed loop for {args.chat_seconds:g} s, then "
                    f"{args.chat_rate:g} msg/s offered for {args.chat_open_seconds:g} s …",
            lambda: bench_chat.run_chat(bench_chat.config_from(args)))
        run("webhooks", f"\nwebhooks: {args.messages} one-way messages, every `sent` to one endpoint …",
            lambda: bench_webhooks.run_webhooks(args.messages, args.recipients, min(args.concurrency, 8)))
        run("priority", f"\npriority isolation: high latency idle, then behind {args.backlog:,} low jobs …",
            lambda: bench_pipeline.run_priority(priority_config))
        run("scaling", f"\nthroughput scaling: {args.scaling_jobs:,} jobs per run …",
            lambda: bench_pipeline.run_scaling(scaling_config, getattr(results.get("raw"), "batched", None)))
        run("recovery", f"\nrecovery after kill -9: {args.recovery_jobs:,} jobs …",
            lambda: bench_pipeline.run_recovery(recovery_config))
        run("groups", f"\nlarge groups: a message to {args.group_sizes} online members …",
            lambda: bench_groups.run_groups(bench_groups.config_from(args)))
        run("sockets", f"\nidle sockets in one edge worker: {args.socket_counts} …",
            lambda: bench_sockets.run_sockets(bench_sockets.config_from(args)))
    finally:
        print("\n".join(summary(*(results.get(p) for p in PARTS),
                                 extra=[results[p] for p in EXTRA_PARTS if p in results])))
        print(f"  total {time.monotonic() - started:.0f} s")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
