"""Embedded mode end to end: the launcher `make run` starts (`herald run`),
its demo users, a one-way message over HTTP, received on a WebSocket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import pytest
import requests

from tests.support.clients import StreamClient
from tests.support.processes import BIN, start_embedded

pytestmark = pytest.mark.e2e


EMBEDDED_ENV = {"BROKER_URL": "", "DATABASE_URL": "", "REDIS_URL": "", "JWT_SECRET": ""}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("embedded")


@pytest.fixture(scope="module")
def embedded(data_dir):
    process, base_url = start_embedded({**EMBEDDED_ENV, "HERALD_DATA_DIR": str(data_dir)}, data_dir)
    yield process, base_url
    process.stop()


def herald(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "herald"), *args], env={**os.environ, **EMBEDDED_ENV, **env},
                          capture_output=True, text=True, timeout=60)


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
    # No Redis and no RabbitMQ to reach: said so, not reported as fine.
    assert response.json()["checks"] == {"database": "ok", "broker": "not_configured", "redis": "not_configured"}


def test_the_printed_shell_line_sets_the_tour_variables(embedded):
    process, base_url = embedded
    log = process.wait_for_log("in another shell in this folder:")
    line = log.split("in another shell in this folder:\n", 1)[1].splitlines()[0].strip()
    assert line.startswith('eval "$(') and line.endswith(' demo env)"'), line
    script = line + '\nprintf "%s\\n" "$HERALD" "$HERALD_WS" "$ADMIN" "$ACME" "$SOMCHAI" "$MALEE"'
    result = subprocess.run(["bash", "-c", script], env={**os.environ, **EMBEDDED_ENV}, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    herald_url, herald_ws, *tokens = result.stdout.splitlines()
    assert (herald_url, herald_ws) == (base_url, base_url.replace("http", "ws", 1)) and all(tokens)
    somchai = tokens[-2]
    ticket = requests.post(f"{base_url}/v1/ws/ticket", headers={"Authorization": f"Bearer {somchai}"}, timeout=10)
    assert ticket.status_code == 201


def test_a_port_in_use_is_one_line_and_starts_nothing(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = herald({"HERALD_DATA_DIR": str(tmp_path / "data"), "PORT": str(port)}, "run")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (f"herald: port {port} on 127.0.0.1 is already in use: stop what listens there, "
                                     f"or choose another port (PORT={port + 1} make run)")
    assert not (tmp_path / "data").exists()
