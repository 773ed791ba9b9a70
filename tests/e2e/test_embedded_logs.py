"""`herald run` logs every request too: as text when its stderr is a
terminal (a pseudo-terminal here), as JSON lines when it is not (a file)."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import time

import pytest
import requests

from tests.support.processes import BIN, free_port, start_embedded, wait_http

pytestmark = pytest.mark.e2e
EMBEDDED_ENV = {"BROKER_URL": "", "DATABASE_URL": "", "REDIS_URL": "", "JWT_SECRET": "", "HERALD_DEMO": "off",
                "LOG_FORMAT": ""}


def read_until(fd: int, needle: bytes, timeout: float = 15.0) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            seen += os.read(fd, 65536)
    assert needle in seen, seen.decode(errors="replace")
    return seen.decode(errors="replace")


def test_at_a_terminal_each_request_is_one_readable_text_line(tmp_path):
    port = free_port()
    terminal, stderr = pty.openpty()
    process = subprocess.Popen([str(BIN / "herald"), "run"], stdout=subprocess.DEVNULL, stderr=stderr,
                               env={**os.environ, **EMBEDDED_ENV, "HERALD_DATA_DIR": str(tmp_path), "PORT": str(port)},
                               start_new_session=True)
    os.close(stderr)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        answer = requests.get(f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "at-the-terminal"},
                              timeout=5)
        assert answer.headers["X-Request-ID"] == "at-the-terminal"
        text = read_until(terminal, b"request_id=at-the-terminal")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
        os.close(terminal)
    (line,) = [line for line in text.splitlines() if "request_id=at-the-terminal" in line]
    assert " INFO herald.http: GET /healthz 200 method=GET route=/healthz path=/healthz status=200 duration_ms=" in line
    assert not any(part.lstrip().startswith("{") for part in text.splitlines())  # no JSON at a terminal


def test_into_a_file_each_request_is_one_json_line(tmp_path):
    process, base_url = start_embedded({**EMBEDDED_ENV, "HERALD_DATA_DIR": str(tmp_path)}, tmp_path)
    try:
        requests.get(f"{base_url}/healthz", headers={"X-Request-ID": "into-a-file"}, timeout=5)
        process.wait_for_log('"request_id": "into-a-file"')
    finally:
        process.stop()
    lines = [json.loads(text) for text in process.log().splitlines() if '"into-a-file"' in text]
    assert [(line["logger"], line["route"], line["status"]) for line in lines] == [("herald.http", "/healthz", 200)]
