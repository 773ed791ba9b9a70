"""`make bench`: the raw RabbitMQ baseline, the end-to-end one-way bench and
the pipeline benchmarks (priority isolation, throughput scaling, recovery
after kill -9; tests/load/bench_pipeline.py), in the same run on the same
machine, and their ratios.

Not a test: it prints figures and exits 0 unless something crashed. Each
bench removes its own database, vhost and processes in `finally`; SIGTERM
is turned into SystemExit so those blocks run on `kill` too.

    .venv/bin/python -m tests.load.run_all [-n 5000] [-m 3000] [-r 50] [-c 16]
        [--only raw,oneway,priority,scaling,recovery] [--backlog 100000] [--scaling-jobs 5000] …
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback

from tests.load import bench_pipeline
from tests.load.bench_oneway import OnewayResult, add_arguments, config_from, pct, run_oneway
from tests.load.raw_rabbitmq import RawResult, run_raw

PARTS = ("raw", "oneway", *bench_pipeline.PARTS)


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


def summary(raw: RawResult | None, oneway: OnewayResult | None, priority=None, scaling=None,
            recovery=None) -> list[str]:
    rows = []
    if raw is not None:
        rows += [("raw RabbitMQ published (confirm per publish)", f"{raw.published_per_second:,.0f} msg/s"),
                 ("raw RabbitMQ end to end (first publish → last ack)", f"{raw.end_to_end_per_second:,.0f} msg/s")]
    if oneway is not None:
        lat = oneway.latencies_ms()
        integrity = oneway.integrity()
        rows += [("Herald accepted (HTTP 202s)", f"{oneway.accepted_per_second:,.0f} msg/s"),
                 ("Herald delivered (first 202 → last frame)", f"{oneway.delivered_per_second:,.0f} msg/s")]
        if lat:
            rows.append(("Herald latency 202→frame p50/p95/p99",
                         f"{pct(lat, 50):,.0f} / {pct(lat, 95):,.0f} / {pct(lat, 99):,.0f} ms"))
        rows.append(("frames lost / duplicated / foreign",
                     f"{integrity['lost']} / {integrity['duplicated']} / {len(oneway.receivers.foreign)}"))
        rows.append(("deliveries 'delivered' in the database",
                     f"{oneway.db_status.get('delivered', 0)} / {oneway.accepted}"))
    if raw is not None:
        rows.append(("machine CPU busy during the raw baseline", f"{raw.machine_busy:.0%}"))
    if oneway is not None and oneway.window_seconds:
        rows.append(("machine CPU busy during the end-to-end run", f"{oneway.machine_busy:.0%}"))
    if raw is not None and oneway is not None and raw.end_to_end_per_second > 0:
        base = raw.end_to_end_per_second
        rows += [("ratio delivered ÷ raw end to end", f"{oneway.delivered_per_second / base:.3f}"),
                 ("ratio accepted ÷ raw end to end", f"{oneway.accepted_per_second / base:.3f}")]
    rows += bench_pipeline.summary_rows(priority, scaling, recovery)
    for name, part in (("priority", priority), ("scaling", scaling), ("recovery", recovery)):
        if part is not None and part.busy_summary:
            rows.append((f"machine CPU busy during {name}", part.busy_summary))
    width = max((len(name) for name, _ in rows), default=0)
    return ["", "summary (same run, same machine; not a pass/fail test)",
            *(f"  {name:<{width}}  {value:>22}" for name, value in rows)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--raw-messages", type=int, default=5000, help="raw RabbitMQ messages (N)")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts to run (default: all): {','.join(PARTS)}")
    add_arguments(parser)
    bench_pipeline.add_arguments(parser)
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
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
        run("raw", f"raw RabbitMQ baseline: {args.raw_messages} messages …", lambda: run_raw(args.raw_messages))
        run("oneway", f"\none-way end to end: {args.messages} messages to {args.recipients} recipients "
                      f"from {args.concurrency} threads …", lambda: run_oneway(config_from(args)))
        run("priority", f"\npriority isolation: high latency idle, then behind {args.backlog:,} low jobs …",
            lambda: bench_pipeline.run_priority(priority_config))
        run("scaling", f"\nthroughput scaling: {args.scaling_jobs:,} jobs per run …",
            lambda: bench_pipeline.run_scaling(scaling_config, results.get("raw")))
        run("recovery", f"\nrecovery after kill -9: {args.recovery_jobs:,} jobs …",
            lambda: bench_pipeline.run_recovery(recovery_config))
    finally:
        print("\n".join(summary(*(results.get(p) for p in PARTS))))
        print(f"  total {time.monotonic() - started:.0f} s")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
