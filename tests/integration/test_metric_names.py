"""Every metric the Grafana dashboard and the alert rules name is one the
code exports: a real /metrics scrape, after a send, a delivery, an ack, a
read, a failed job, a push and a socket frame's worth of traffic, holds each."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import dramatiq
import yaml

from pipeline.contract import DELIVER_MESSAGE, delivery_queue
from pipeline.retry import RetryPolicy
from realtime import InProcessRealtime
from tests.support.scrapes import family_names
from usecases.messaging.acks import record_acks
from workers.broker import install_ports, install_push_sender, make_broker, worker_ports
from workers.delivery import deliver_message
from workers.push import send_push
from workers.push_sender import LoggingSender

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"\bherald_[a-z_]+\b")
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def named_in_dashboard() -> set[str]:
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/herald.json").read_text())
    return {name for panel in dashboard["panels"] for target in panel["targets"]
            for name in NAME.findall(target["expr"])}


def named_in_rules() -> set[str]:
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    return {name for group in rules["groups"] for rule in group["rules"] for name in NAME.findall(rule["expr"])}


def traffic(client, auth, settings, sessions) -> None:
    business, somchai = auth.user("business", username="acme"), auth.user("mobile")
    client.post("/v1/devices", json={"platform": "android", "token": "tok-1"}, headers=auth.headers(somchai))
    install_ports(worker_ports(settings, sessions, InProcessRealtime()))
    install_push_sender(LoggingSender())
    try:
        message_id = client.post("/v1/messages", json={"to": [somchai.id], "body": "hi"},
                                 headers=auth.headers(business)).json["id"]
        deliver_message.fn(message_id)
        send_push.fn(message_id, [somchai.id])
        ports = client.application.extensions["herald"].ports
        record_acks(ports, somchai.id, 1, 1, datetime.now(timezone.utc))
    finally:
        install_push_sender(None)
    broker = make_broker(settings, RetryPolicy(max_retries=0, min_backoff_ms=10, max_backoff_ms=20))
    queue = delivery_queue("normal", 0)
    dramatiq.actor(deliver_message.fn, broker=broker, actor_name=DELIVER_MESSAGE, queue_name=queue).send(424242)
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=1)
    worker.start()
    try:
        broker.join(queue, fail_fast=False, timeout=20_000)
        worker.join()
    finally:
        worker.stop()
        broker.close()


def test_the_dashboard_and_the_rules_name_only_exported_metrics(client, auth, settings, sessions):
    traffic(client, auth, settings, sessions)
    exported = family_names(client.get("/metrics").get_data(as_text=True))
    named = named_in_dashboard() | named_in_rules()
    assert len(named) >= 20

    def known(name: str) -> bool:
        return name in exported or any(name.endswith(s) and name[:-len(s)] in exported for s in SUFFIXES)

    assert sorted(name for name in named if not known(name)) == []
