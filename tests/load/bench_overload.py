"""Overload probe (D89, D90): offer one gunicorn edge more POST /v1/messages
than it can accept, open loop, and print what the senders saw — answers by
status, latency of the 202s and of the 503s, client timeouts — once per
variant of the overload settings. No workers: the edge alone is measured.

    .venv/bin/python -m tests.load.bench_overload --rate 900 --seconds 10 \
        --variants "DB_POOL_TIMEOUT_SECONDS=30,EDGE_MAX_CONCURRENT_POSTS=0" \
                   "DB_POOL_TIMEOUT_SECONDS=3,EDGE_MAX_CONCURRENT_POSTS=0" "DB_POOL_TIMEOUT_SECONDS=3"
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

from db.migrate import upgrade
from tests.load.bench_oneway import create_users, pct, spawn_web, stack_env
from tests.support import services
from tests.support.processes import Process

CLIENT_TIMEOUT_SECONDS = 30.0


async def _offer(base_url: str, token: str, recipient: int, rate: float, seconds: float) -> list[tuple]:
    """Send `rate` POSTs a second for `seconds`, on a schedule (not waiting
    for answers); every answer as (status or "timeout", seconds taken)."""
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_SECONDS)
    connector = aiohttp.TCPConnector(limit=0)
    results: list[tuple] = []
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        async def one(n: int) -> None:
            started = time.monotonic()
            try:
                async with http.post(f"{base_url}/v1/messages", json={"to": [recipient], "body": f"m{n}"},
                                     headers={"Authorization": f"Bearer {token}"}) as answer:
                    await answer.read()
                    results.append((answer.status, time.monotonic() - started))
            except asyncio.TimeoutError:
                results.append(("timeout", time.monotonic() - started))
            except aiohttp.ClientError as e:
                results.append((type(e).__name__, time.monotonic() - started))

        tasks, start = [], time.monotonic()
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    return results


def _report(variant: str, results: list[tuple], wall: float) -> str:
    statuses = Counter(status for status, _ in results)
    by = {status: sorted(s * 1000 for st, s in results if st == status) for status in statuses}
    accepted = by.get(202, [])
    refused = by.get(503, [])
    line = (f"{variant}: {dict(statuses)} in {wall:.1f} s; "
            f"{len(accepted) / wall:.0f} accepted/s")
    if accepted:
        line += f"; 202 p50/p99/max {pct(accepted, 50):.0f}/{pct(accepted, 99):.0f}/{max(accepted):.0f} ms"
    if refused:
        line += f"; 503 p50/max {pct(refused, 50):.0f}/{max(refused):.0f} ms"
    return line


def probe(variant: str, rate: float, seconds: float, workers: int) -> str:
    database_url, broker_url = services.create_database(), services.create_vhost()
    started: list[Process] = []
    try:
        upgrade(database_url)
        env = {**stack_env(database_url, broker_url, Path(tempfile.mkdtemp(prefix="herald-overload-"))),
               **dict(pair.split("=", 1) for pair in variant.split(",") if pair)}
        token, ids, _ = create_users(database_url, env, 1, id_base=8_000_000)
        base_url = spawn_web(env, Path(tempfile.mkdtemp(prefix="herald-overload-logs-")), workers, started)
        began = time.monotonic()
        results = asyncio.run(_offer(base_url, token, ids[0], rate, seconds))
        return _report(variant or "defaults", results, time.monotonic() - began)
    finally:
        for process in started:
            process.stop()
        services.drop_database(database_url)
        services.delete_vhost(broker_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=300.0, help="POSTs offered per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers")
    parser.add_argument("--variants", nargs="+", default=[""],
                        help='settings to compare, each "NAME=value,NAME=value" ("": the defaults)')
    args = parser.parse_args()
    for variant in args.variants:
        print(probe(variant, args.rate, args.seconds, args.workers), flush=True)


if __name__ == "__main__":
    main()
