"""Pools scale on their own: a pool started on one lane consumes only it."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support import services
from tests.support.processes import BIN, Process, start_gunicorn

pytestmark = pytest.mark.e2e


def start_pool(env, log_dir, name, *args) -> Process:
    process = Process(name, [str(BIN / "herald"), "workers", *args, "--processes", "1", "--threads", "2"],
                      env, log_dir)
    process.wait_for_log("is ready for action", timeout=30)
    return process


def statuses(base_url, headers, ids):
    return [requests.get(f"{base_url}/v1/messages/{i}", headers=headers, timeout=10).json()["recipients"][0]["status"]
            for i in ids]


def wait_until(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_a_high_lane_pool_delivers_high_only_until_a_pool_for_the_other_lanes_starts(stack_env, auth, sessions,
                                                                                     tmp_path):
    vhost = services.create_vhost()
    env = {**stack_env, "BROKER_URL": vhost}
    processes = []
    try:
        edge, base_url = start_gunicorn(env, tmp_path)
        processes.append(edge)
        processes.append(start_pool(env, tmp_path, "high-pool", "--pool", "delivery", "--lanes", "high"))
        business = auth.user("business", username="acme")
        somchai = auth.user("mobile")
        headers = auth.headers(business)
        ids = {p: requests.post(f"{base_url}/v1/messages", json={"to": [somchai.id], "body": p, "priority": p},
                                headers=headers, timeout=10).json()["id"] for p in ("high", "normal", "low")}
        assert wait_until(lambda: statuses(base_url, headers, [ids["high"]]) == ["sent"])
        time.sleep(1)
        assert statuses(base_url, headers, [ids["normal"], ids["low"]]) == ["queued", "queued"]
        processes.append(start_pool(env, tmp_path, "other-pool", "--pool", "delivery", "--lanes", "normal,low"))
        assert wait_until(lambda: statuses(base_url, headers, [ids["normal"], ids["low"]]) == ["sent", "sent"])
    finally:
        for process in processes:
            process.stop()
        services.delete_vhost(vhost)
