"""The two kinds of client a fault scenario watches the stack through:
posting threads (a business sender) and mobile apps holding a socket."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect


@dataclass
class Post:
    """One logical message a sender wants accepted, retried under the same key."""
    thread: int
    seq: int
    key: str
    to: list[int]
    body: str
    first_status: int | None = None  # None: no answer (connection lost, timeout)
    message_id: int | None = None  # once some attempt got a 202
    replayed: bool = False  # a retry's 202 replayed an earlier commit
    attempts: int = 0

    @property
    def accepted_first_time(self) -> bool:
        return self.first_status == 202


def attempt(http: requests.Session, base_url: str, token: str, post: Post) -> int | None:
    """POST once; the HTTP status, or None when no answer came back."""
    post.attempts += 1
    try:
        response = http.post(f"{base_url}/v1/messages", json={"to": post.to, "body": post.body}, timeout=10,
                             headers={"Authorization": f"Bearer {token}", "Idempotency-Key": post.key})
    except requests.RequestException:
        status = None
    else:
        status = response.status_code
        if status == 202:
            post.message_id = response.json()["id"]
            post.replayed = post.attempts > 1 and response.headers.get("Idempotent-Replayed") == "true"
    if post.attempts == 1:
        post.first_status = status
    return status


class Poster(threading.Thread):
    """Posts its messages at a steady rate to whichever edge is current."""

    def __init__(self, posts: list[Post], rate: float, token: str, base_url, edge_up: threading.Event):
        super().__init__(daemon=True, name=f"poster-{posts[0].thread if posts else 0}")
        self.posts = posts
        self.interval = 1.0 / rate
        self.token = token
        self.base_url = base_url  # a callable: the edge to post to now
        self.edge_up = edge_up

    def run(self) -> None:
        http = requests.Session()
        due = time.monotonic()
        for post in self.posts:
            due += self.interval
            time.sleep(max(0.0, due - time.monotonic()))
            self.edge_up.wait(60)
            attempt(http, self.base_url(), self.token, post)


class Client:
    """A mobile app: one socket at a time, acknowledges what it reads (every
    `ack_every` frames and whenever the socket goes quiet), and reconnects
    whenever the socket closes, with `since` = its last acknowledged
    position — so frames it had not acknowledged come again, and are
    recognized by position.

    `view` is what the user sees: position → message id. A duplicate is a
    position sent twice on one connection, an acknowledged position sent
    again, or one message at two positions; a gap is a position that is not
    the next one on its connection.
    """

    def __init__(self, user_id: int, token: str, ws_url, ack_every: int = 5):
        self.user_id = user_id
        self.token = token
        self.ws_url = ws_url  # a callable: the edge to connect to now
        self.ack_every = ack_every
        self.view: dict[int, int] = {}
        self._position_of: dict[int, int] = {}
        self.acked = 0
        self.connections = 0
        self.resent = 0  # unacknowledged frames sent again after a reconnect (expected)
        self.duplicates = 0
        self.violations: list[str] = []
        self.ready = threading.Event()
        self._ws = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"client-{user_id}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)

    def drop(self) -> None:
        """Close the socket from the client side (a network flap): the app reconnects."""
        ws = self._ws
        if ws is not None:
            ws.close()

    def message_ids(self) -> set[int]:
        with self._lock:
            return set(self.view.values())

    def _run(self) -> None:
        delay = 0.05
        while not self._stop.is_set():
            try:
                socket = connect(f"{self.ws_url()}/v1/ws?since={self.acked}", open_timeout=5, close_timeout=1,
                                 additional_headers={"Authorization": f"Bearer {self.token}"})
            except Exception:  # edge gone, database down (5xx on the handshake), …
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            delay = 0.05
            self.connections += 1
            try:
                with socket as ws:
                    self._ws = ws
                    self._read(ws, self.connections)
            except (ConnectionClosed, OSError):
                pass
            finally:
                self._ws = None

    def _read(self, ws, connection: int) -> None:
        since = self.acked
        expected = since + 1
        on_this_connection: set[int] = set()
        unacked = 0
        while not self._stop.is_set():
            try:
                raw = ws.recv(timeout=0.2)
            except TimeoutError:
                if unacked:
                    self._ack(ws, expected - 1)
                    unacked = 0
                continue
            frame = json.loads(raw)
            if frame["type"] == "message":
                position, message_id = frame["position"], frame["message"]["id"]
                if position != expected:
                    self._violation(f"connection {connection} (since={since}): position {position}, "
                                    f"expected {expected}")
                if position in on_this_connection or position <= since:
                    self._violation(f"connection {connection} (since={since}): position {position} sent again")
                    self.duplicates += 1
                on_this_connection.add(position)
                self._record(position, message_id)
                expected = max(expected, position + 1)
                unacked += 1
                if unacked >= self.ack_every:
                    self._ack(ws, expected - 1)
                    unacked = 0
            elif frame["type"] == "ready":
                if frame["position"] != expected - 1:
                    self._violation(f"connection {connection}: ready at {frame['position']} after {expected - 1}")
                self.ready.set()
            elif frame["type"] == "error":
                self._violation(f"connection {connection}: error frame {frame}")

    def _record(self, position: int, message_id: int) -> None:
        with self._lock:
            known = self.view.get(position)
            if known is None:
                if message_id in self._position_of:
                    self._violation(f"message {message_id} at positions {self._position_of[message_id]} "
                                    f"and {position}")
                    self.duplicates += 1
                self.view[position] = message_id
                self._position_of.setdefault(message_id, position)
            elif known != message_id:
                self._violation(f"position {position} was message {known}, now {message_id}")
            else:
                self.resent += 1

    def _ack(self, ws, position: int) -> None:
        ws.send(json.dumps({"type": "ack", "position": position}))
        self.acked = position

    def _violation(self, text: str) -> None:
        self.violations.append(f"user {self.user_id}: {text}")


def replay(ws_url: str, token: str, timeout: float = 15.0) -> tuple[list[tuple[int, int]], list[str]]:
    """Everything the user's stream holds: (position, message id) pairs read
    with since=0 up to `ready`, and anything odd about the frames."""
    pairs, problems = [], []
    with connect(f"{ws_url}/v1/ws?since=0", open_timeout=10,
                 additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        while True:
            frame = json.loads(ws.recv(timeout=timeout))
            if frame["type"] == "message":
                pairs.append((frame["position"], frame["message"]["id"]))
            elif frame["type"] == "ready":
                if frame["position"] != (pairs[-1][0] if pairs else 0):
                    problems.append(f"ready at {frame['position']} after {pairs[-1:]}")
                return pairs, problems
            else:
                problems.append(f"unexpected frame {frame}")
