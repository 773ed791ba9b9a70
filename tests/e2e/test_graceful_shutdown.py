"""SIGTERM to the edge: sockets close with 1012 at once so clients
reconnect elsewhere; what they had not acknowledged comes back on reconnect."""

from __future__ import annotations

import signal
import time

import pytest
import requests
from websockets.exceptions import ConnectionClosed

from tests.support.clients import StreamClient
from tests.support.processes import start_gunicorn

pytestmark = pytest.mark.e2e


def test_sigterm_closes_sockets_with_1012_and_nothing_is_lost_on_reconnect(stack, stack_env, auth, sessions,
                                                                          tmp_path):
    edge, base_url = start_gunicorn(stack_env, tmp_path)
    ws_url = base_url.replace("http", "ws", 1)
    business = auth.user("business", username="acme")
    somchai = auth.user("mobile")
    token = auth.headers(somchai)["Authorization"].split()[1]
    try:
        client = StreamClient(ws_url, token)
        client.until_ready()
        sent = requests.post(f"{base_url}/v1/messages", json={"to": [somchai.id], "body": "before restart"},
                             headers=auth.headers(business), timeout=10).json()["id"]
        assert client.next()["message"]["id"] == sent  # received, not acknowledged
        started = time.monotonic()
        edge.signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as closed:
            client.next(timeout=4)
        assert closed.value.rcvd.code == 1012
        assert time.monotonic() - started < 4  # well before the 5 s graceful timeout
        assert edge.popen.wait(10) == 0
    finally:
        edge.stop()
    with StreamClient(stack.ws_url, token, since=0) as again:  # another edge process
        frames, _ = again.until_ready()
    assert [f["message"]["id"] for f in frames] == [sent]
