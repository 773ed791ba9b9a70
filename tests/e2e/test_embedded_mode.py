"""Embedded mode end to end: the launcher `make run` starts (`herald run`),
its demo users, a one-way message over HTTP, received on a WebSocket."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.support.clients import StreamClient
from tests.support.processes import start_embedded

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    data = tmp_path_factory.mktemp("embedded")
    process, base_url = start_embedded({"HERALD_DATA_DIR": str(data), "BROKER_URL": "", "DATABASE_URL": "",
                                        "REDIS_URL": "", "JWT_SECRET": ""}, data)
    yield process, base_url
    process.stop()


def demo_users(process) -> dict:
    text = process.wait_for_log('"demo_users"')
    start = text.index("{", text.index("{\n") if "{\n" in text else 0)
    demo = json.JSONDecoder().raw_decode(text[start:])[0]
    return {user["name"]: user for user in demo["demo_users"]}


def test_the_launcher_creates_the_demo_and_a_message_reaches_a_mobile_user(embedded):
    process, base_url = embedded
    users = demo_users(process)
    assert {u["role"] for u in users.values()} == {"admin", "business", "mobile"}
    acme, somchai = users["Acme Travel"], users["Somchai"]
    auth = {"Authorization": f"Bearer {acme['token']}"}
    with StreamClient(base_url.replace("http", "ws", 1), somchai["token"]) as client:
        client.until_ready()
        sent = requests.post(f"{base_url}/v1/messages", json={"to": [somchai["phone"]], "body": "Hello from Acme"},
                             headers=auth, timeout=10)
        assert sent.status_code == 202
        frame = client.next()
        assert frame["message"]["id"] == sent.json()["id"] and frame["message"]["body"] == "Hello from Acme"
        client.send({"type": "ack", "position": frame["position"]})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status = requests.get(f"{base_url}/v1/messages/{sent.json()['id']}", headers=auth, timeout=10).json()
            if status["recipients"][0]["status"] == "delivered":
                break
            time.sleep(0.05)
        assert status["recipients"][0]["status"] == "delivered"


def test_embedded_mode_reports_ready_without_any_server(embedded):
    _, base_url = embedded
    response = requests.get(f"{base_url}/readyz", timeout=10)
    assert response.status_code == 200 and response.json()["status"] == "ready"
