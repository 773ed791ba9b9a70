"""Metrics across real processes: gunicorn with two gevent workers sharing
PROMETHEUS_MULTIPROC_DIR (every scrape of /metrics, whichever worker
answers it, shows the sum of both), and a `herald workers` pool of two
dramatiq processes serving theirs on its metrics port."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.clients import StreamClient, token_of
from tests.support.processes import BIN, Process, free_port, start_gunicorn
from tests.support.scrapes import parse, value

pytestmark = pytest.mark.e2e
SENDS = 6


@pytest.fixture
def metrics_stack(stack_env, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    edge_env = {**stack_env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "edge-metrics")}
    web, base_url = start_gunicorn(edge_env, logs, workers=2)
    port = free_port()
    worker = Process("workers", [str(BIN / "herald"), "workers", "--pool", "all", "--processes", "2",
                                 "--threads", "2", "--metrics-port", str(port)],
                     {**stack_env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "worker-metrics")}, logs)
    # Not Dramatiq's "fork process … is ready": the fork imports Herald before it binds (~2 s on a busy box).
    worker.wait_for_log(f"worker metrics on :{port}/metrics", timeout=30)
    yield base_url, f"http://127.0.0.1:{port}/metrics"
    web.stop()
    worker.stop()


def scrape(url: str) -> dict:
    response = requests.get(url, timeout=5)
    assert response.status_code == 200
    return parse(response.text)


def wait_for(url: str, name: str, wanted: float, timeout: float = 15.0, **labels) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        samples = scrape(url)
        if value(samples, name, **labels) >= wanted:
            return samples
        time.sleep(0.2)
    raise AssertionError(f"{name}{labels} stayed at {value(samples, name, **labels)}, wanted {wanted}")


def test_the_edge_sums_its_workers_and_the_pool_serves_its_own(metrics_stack, auth, sessions):
    base_url, worker_metrics = metrics_stack
    business, somchai = auth.user("business", username="acme"), auth.user("mobile")
    with StreamClient(base_url.replace("http", "ws", 1), token_of(auth, somchai)) as client:
        client.until_ready()
        # Each send on a new connection: gunicorn hands them to either worker.
        for n in range(SENDS):
            answer = requests.post(f"{base_url}/v1/messages", json={"to": [somchai.id], "body": f"m{n}"},
                                   headers=auth.headers(business), timeout=10)
            assert answer.status_code == 202
        positions = [client.next()["position"] for _ in range(SENDS)]
        client.send({"type": "ack", "position": positions[-1]})
        edge = wait_for(f"{base_url}/metrics", "herald_messages_delivered_total", SENDS, kind="oneway",
                        priority="normal")
        # Every scrape, whichever process answers it, holds both processes' counts.
        for _ in range(4):
            again = scrape(f"{base_url}/metrics")
            assert value(again, "herald_messages_accepted_total", kind="oneway", priority="normal") == SENDS
            assert value(again, "herald_http_requests_total", route="/v1/messages", method="POST",
                         status="202") == SENDS
        assert value(edge, "herald_websockets_open") == 1
        assert value(edge, "herald_frames_sent_total", type="message") == SENDS
        assert value(edge, "herald_frames_sent_total", type="ready") == 1
        assert value(edge, "herald_ring_to_frame_seconds_count") >= 1  # the frames came by rings
        # Gauges computed at scrape time: the pool's two processes consume each queue.
        wait_for(f"{base_url}/metrics", "herald_queue_consumers", 2, queue="delivery.normal.p0")
    pool = wait_for(worker_metrics, "herald_jobs_total", SENDS, actor="deliver_message", outcome="succeeded")
    assert value(pool, "herald_accept_to_sent_seconds_count", priority="normal") >= SENDS
    assert value(pool, "herald_job_duration_seconds_count", actor="deliver_message") >= SENDS
    deadline = time.monotonic() + 10
    while value(scrape(f"{base_url}/metrics"), "herald_websockets_open") != 0:
        assert time.monotonic() < deadline, "the closed socket is still counted open"
        time.sleep(0.2)
