"""A real WebSocket client speaking protocol v1, for tests and benchmarks."""

from __future__ import annotations

import json

from websockets.sync.client import connect


class StreamClient:
    def __init__(self, ws_url: str, token: str | None = None, since: int = 0, ticket: str | None = None,
                 origin: str | None = None):
        query = f"since={since}" + (f"&ticket={ticket}" if ticket else "")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if origin:
            headers["Origin"] = origin
        self._connection = connect(f"{ws_url}/v1/ws?{query}", additional_headers=headers, open_timeout=10)
        self.ws = self._connection.__enter__()

    def next(self, timeout: float = 10.0) -> dict:
        return json.loads(self.ws.recv(timeout=timeout))

    def until_ready(self, timeout: float = 10.0) -> tuple[list[dict], dict]:
        """Replayed frames, then the ready frame."""
        frames = []
        while True:
            frame = self.next(timeout)
            if frame["type"] == "ready":
                return frames, frame
            frames.append(frame)

    def send(self, frame: dict) -> None:
        self.ws.send(json.dumps(frame))

    def close(self) -> None:
        self._connection.__exit__(None, None, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def token_of(auth, user) -> str:
    """The bare access token of a test user (the `auth` fixture makes headers)."""
    return auth.headers(user)["Authorization"].split()[1]


def next_of(client: StreamClient, kind: str, timeout: float = 10.0) -> dict:
    """The next frame of a type; other frames (presence, typing …) are skipped."""
    while True:
        frame = client.next(timeout)
        if frame["type"] == kind:
            return frame
