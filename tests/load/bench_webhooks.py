"""Webhooks under load: a business with one endpoint on a local receiver
(a thread of this process) sends one-way messages as fast as the edge takes
them; every `sent` status change becomes a signed `message.status` event.
Prints, from the same run on the same machine: status changes per second
the pipeline produced, webhook events per second the receiver took, their
ratio (does one endpoint's ordered, one-at-a-time pool keep up?), and the
lag from a status change to its webhook (p50/p99).

    .venv/bin/python -m tests.load.bench_webhooks [-m 3000] [-r 50] [-c 8]
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from db.engine import normalize_url
from db.migrate import upgrade
from tests.load.bench_oneway import create_users, pct, spawn_web, spawn_worker, stack_env
from tests.support import services
from tests.support.processes import Process
from tests.support.webhook_receiver import start_receiver


@dataclass
class WebhookResult:
    messages: int = 0
    accepted: int = 0
    status_changes: int = 0
    status_seconds: float = 0.0
    events: int = 0
    duplicates: int = 0
    event_seconds: float = 0.0
    lags_ms: list[float] = field(default_factory=list)
    out_of_id_order: int = 0  # concurrent transactions commit out of id order: allowed (D81)
    sequence_inversions: int = 0  # a (message, recipient) going back: never allowed
    timed_out: bool = False
    drained: int = 0
    drain_seconds: float = 0.0
    error: str | None = None

    @property
    def changes_per_second(self) -> float:
        return self.status_changes / self.status_seconds if self.status_seconds else 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.event_seconds if self.event_seconds else 0.0

    def lines(self) -> list[str]:
        lags = sorted(self.lags_ms)
        out = [f"  accepted {self.accepted} / {self.messages} one-way messages",
               f"  status changes (sent) produced: {self.status_changes} in {self.status_seconds:.2f} s = "
               f"{self.changes_per_second:,.0f}/s",
               f"  webhook events taken by the receiver: {self.events} in {self.event_seconds:.2f} s = "
               f"{self.events_per_second:,.0f}/s (duplicates {self.duplicates})",
               f"  per (message, recipient) sequence going back: {self.sequence_inversions}; arrivals out of "
               f"event-id order (transactions committing out of id order, D81): {self.out_of_id_order}"]
        if self.changes_per_second:
            out.append(f"  ratio webhook events/s ÷ status changes/s: {self.events_per_second / self.changes_per_second:.2f}")
        if lags:
            out.append(f"  lag status change → webhook p50 / p99: {pct(lags, 50):,.0f} / {pct(lags, 99):,.0f} ms")
        if self.drain_seconds:
            out.append(f"  one endpoint's most: a backlog of {self.drained} events drained in {self.drain_seconds:.2f} s "
                       f"= {self.drained / self.drain_seconds:,.0f}/s")
        if self.timed_out:
            out.append("  TIMED OUT before every event arrived")
        return out

    def summary_rows(self) -> list[tuple[str, str]]:
        lags = sorted(self.lags_ms)
        rows = [("status changes produced (sent)", f"{self.changes_per_second:,.0f}/s"),
                ("webhook events delivered, one endpoint", f"{self.events_per_second:,.0f}/s")]
        if lags:
            rows.append(("webhook lag p50/p99", f"{pct(lags, 50):,.0f} / {pct(lags, 99):,.0f} ms"))
        if self.drain_seconds:
            rows.append(("webhook backlog drain, one endpoint", f"{self.drained / self.drain_seconds:,.0f}/s"))
        return rows


def run_webhooks(messages: int, recipients: int, concurrency: int, log_dir: str = ".bench",
                 timeout: float = 300.0) -> WebhookResult:
    result = WebhookResult(messages=messages)
    run_dir = Path(log_dir).resolve() / f"webhooks-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    database_url = broker_url = None
    started: list[Process] = []
    receiver = start_receiver()
    try:
        database_url = services.create_database()
        upgrade(database_url)
        broker_url = services.create_vhost()
        env = {**stack_env(database_url, broker_url, run_dir / "data"),
               "WEBHOOK_ALLOW_PRIVATE": "on", "WEBHOOK_ALLOW_HTTP": "on"}
        token, recipient_ids, _ = create_users(database_url, env, recipients)
        base_url = spawn_web(env, run_dir, 2, started)
        spawn_worker(env, run_dir, 2, 8, started)
        answer = requests.post(f"{base_url}/v1/webhooks", json={"url": receiver.url, "events": ["message.status"]},
                               headers={"Authorization": f"Bearer {token}"}, timeout=10)
        answer.raise_for_status()
        result.accepted = _post_all(base_url, token, recipient_ids, messages, concurrency)
        deadline = time.monotonic() + timeout
        while len(receiver.received) < result.accepted and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # late duplicates
        result.timed_out = len(receiver.received) < result.accepted
        _measure(result, receiver, database_url)
        _drain(result, receiver, base_url, token, answer.json()["id"], database_url, backlog=messages, timeout=timeout)
        return result
    finally:
        receiver.close()
        for process in started:
            process.stop()
        if database_url:
            services.drop_database(database_url)
        if broker_url:
            services.delete_vhost(broker_url)


def _post_all(base_url: str, token: str, recipient_ids: list[int], messages: int, concurrency: int) -> int:
    counter, lock, accepted = itertools.count(), threading.Lock(), Counter()

    def poster() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        while (n := next(counter)) < messages:
            answer = session.post(f"{base_url}/v1/messages", timeout=30,
                                  json={"to": [recipient_ids[n % len(recipient_ids)]], "body": f"bench {n}"})
            with lock:
                accepted[answer.status_code] += 1

    threads = [threading.Thread(target=poster) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return accepted[202]


def _measure(result: WebhookResult, receiver, database_url: str) -> None:
    engine = create_engine(normalize_url(database_url))
    try:
        with engine.connect() as conn:
            count, first, last = conn.execute(text(
                "SELECT count(*), min(sent_at), max(sent_at) FROM deliveries WHERE sent_at IS NOT NULL")).one()
            order = [row[0] for row in conn.execute(text("SELECT public_id FROM webhook_events ORDER BY id"))]
    finally:
        engine.dispose()
    result.status_changes = count
    result.status_seconds = (last - first).total_seconds() if count > 1 else 0.0
    seen: dict[str, float] = {}
    for item in receiver.received:
        event = item.event
        if event["id"] in seen:
            result.duplicates += 1
            continue
        seen[event["id"]] = item.at
        result.lags_ms.append((item.wall - datetime.fromisoformat(event["data"]["at"]).timestamp()) * 1000)
    result.events = len(seen)
    if len(seen) > 1:
        result.event_seconds = max(seen.values()) - min(seen.values())
    rank = {public_id: n for n, public_id in enumerate(order)}
    arrived = [rank[public_id] for public_id in seen]
    result.out_of_id_order = sum(1 for a, b in zip(arrived, arrived[1:]) if b < a)
    last: dict[tuple[int, int], int] = {}
    for item in receiver.received:
        event = item.event
        key = (event["data"]["message_id"], event["data"]["recipient"]["user_id"])
        if event["sequence"] < last.get(key, 0):
            result.sequence_inversions += 1
        last[key] = max(last.get(key, 0), event["sequence"])


def _drain(result: WebhookResult, receiver, base_url: str, token: str, endpoint_id: int, database_url: str,
           backlog: int, timeout: float) -> None:
    """The endpoint's own ceiling: with it disabled, `backlog` ping events
    are queued (SQL), then it is enabled and the receiver times the drain."""
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{base_url}/v1/webhooks/{endpoint_id}"
    requests.patch(url, json={"enabled": False}, headers=headers, timeout=10).raise_for_status()
    engine = create_engine(normalize_url(database_url))
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO webhook_events (endpoint_id, public_id, kind, sequence, data, state, attempts, "
                "created_at, next_attempt_at) SELECT :endpoint, 'evt_drain' || n, 'ping', 0, "
                "CAST('{}' AS json), 'pending', 0, now(), now() FROM generate_series(1, :n) AS n"),
                {"endpoint": endpoint_id, "n": backlog})
    finally:
        engine.dispose()
    before = len(receiver.received)
    requests.patch(url, json={"enabled": True}, headers=headers, timeout=10).raise_for_status()
    deadline = time.monotonic() + timeout
    while len(receiver.received) < before + backlog and time.monotonic() < deadline:
        time.sleep(0.02)
    arrivals = [item.at for item in receiver.received[before:]]
    result.drained = len(arrivals)
    result.drain_seconds = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-m", "--messages", type=int, default=3000)
    parser.add_argument("-r", "--recipients", type=int, default=50)
    parser.add_argument("-c", "--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(f"webhooks: {args.messages} one-way messages to {args.recipients} recipients, one endpoint …", flush=True)
    print("\n".join(run_webhooks(args.messages, args.recipients, args.concurrency).lines()))


if __name__ == "__main__":
    main()
