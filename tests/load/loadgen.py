"""The one-way load generator: one asyncio process per share of the recipients.

Each generator process holds the WebSockets of its recipients (the
`websockets` asyncio client, a cumulative ack after every message frame) and
posts one-way messages to those same recipients over HTTP/1.1 keep-alive
connections (aiohttp). One event loop and no threads per client keep its cost
per message small, and because it runs in its own process it shares no GIL
with the parent, the server or another generator; `cpu_seconds` in every
report (user + system of this process over the phase) says what it cost.

The parent drives it over a pipe, one phase at a time:

- `("closed", concurrency, seconds, max_messages)`: `concurrency` POSTs in
  flight, each answered one followed at once by the next, until the time or
  the message count is up (the maximum rate);
- `("open", rate, start, seconds, offset)`: send at `start + (i + offset) / rate`
  for `seconds`, each POST on its own task, never waiting for an answer before
  the next one is due (open loop, so a slow server cannot slow the offered load).
  Latencies count from the scheduled time, not from when the POST left, so a
  generator that falls behind shows as latency rather than hiding it.

After sending, a phase waits until every accepted message's frame arrived
(or `drain_timeout`), then answers with a `PhaseReport`. `("stop",)` ends it.
Times are time.monotonic() (CLOCK_MONOTONIC, one clock for every process).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

BODY_CHARS = 400  # with the frame's envelope, a frame is about the raw baseline's 512 bytes
LATE = 0.005      # an open-loop POST that left more than 5 ms after its time is counted late


@dataclass
class GeneratorSpec:
    base_url: str
    sender_token: str
    recipient_ids: list[int]
    recipient_tokens: list[str]
    body_prefix: str          # this run's tag: a frame without it is someone else's
    drain_timeout: float = 60.0


@dataclass
class PhaseReport:
    # (message id, recipient id, scheduled or sent time, 202 time)
    posts: list[tuple[int, int, float, float]] = field(default_factory=list)
    rejected: Counter = field(default_factory=Counter)
    # first frame of each of our messages: (recipient id, message id) → arrival time
    arrivals: dict[tuple[int, int], float] = field(default_factory=dict)
    duplicates: int = 0       # a (recipient, message) framed again
    foreign: int = 0          # frames whose body is not this run's
    late_sends: int = 0       # open loop: POSTs that left more than LATE after their time
    sent: int = 0
    send_seconds: float = 0.0  # first send → last send (open) or first → last answer (closed)
    cpu_seconds: float = 0.0   # this process, user + system, over the whole phase
    wall_seconds: float = 0.0
    timed_out: bool = False
    errors: list[str] = field(default_factory=list)


class Generator:
    def __init__(self, spec: GeneratorSpec):
        self.spec = spec
        self.padding = "x" * BODY_CHARS
        self.report = PhaseReport()
        self.reconnects = 0
        self._numbers = itertools.count()
        self._pending: set[tuple[int, int]] = set()   # accepted, not framed yet
        self._drained = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self.http: aiohttp.ClientSession | None = None

    # -- the receiving side ---------------------------------------------------
    async def connect_all(self) -> None:
        ws_url = self.spec.base_url.replace("http", "ws", 1) + "/v1/ws?since=0"
        sockets = await asyncio.gather(*(self._open(ws_url, token) for token in self.spec.recipient_tokens))
        self._tasks = [asyncio.create_task(self._receive(ws_url, rid, token, ws))
                       for rid, token, ws in zip(self.spec.recipient_ids, self.spec.recipient_tokens, sockets)]

    async def _open(self, ws_url: str, token: str):
        ws = await connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=30,
                           compression=None)
        while json.loads(await ws.recv()).get("type") != "ready":  # replayed frames: none for a new user
            pass
        return ws

    async def _receive(self, ws_url: str, recipient: int, token: str, ws) -> None:
        position = 0
        while True:
            try:
                if ws is None:
                    # Resume after what we saw: a missed frame is replayed, a seen one must not come again.
                    ws = await connect(ws_url.replace("since=0", f"since={position}"),
                                       additional_headers={"Authorization": f"Bearer {token}"}, compression=None)
                async for raw in ws:
                    at = time.monotonic()
                    frame = json.loads(raw)
                    if frame.get("type") != "message":
                        continue
                    position = frame["position"]
                    await ws.send(f'{{"type":"ack","position":{position}}}')
                    self._record(recipient, frame["message"], at)
                return
            except (ConnectionClosed, OSError, asyncio.TimeoutError) as e:
                self.report.errors.append(f"recipient {recipient}: {e!r}; reconnecting")
                self.reconnects += 1
                ws = None
                await asyncio.sleep(0.2)

    def _record(self, recipient: int, message: dict, at: float) -> None:
        if not str(message.get("body", "")).startswith(self.spec.body_prefix):
            self.report.foreign += 1
            return
        key = (recipient, message["id"])
        if key in self.report.arrivals:
            self.report.duplicates += 1
            return
        self.report.arrivals[key] = at
        self._pending.discard(key)
        if not self._pending:
            self._drained.set()

    # -- the sending side -------------------------------------------------------
    async def _post(self, due: float | None = None) -> None:
        i = next(self._numbers)
        recipient = self.spec.recipient_ids[i % len(self.spec.recipient_ids)]
        body = f"{self.spec.body_prefix}{i} {self.padding}"[:BODY_CHARS]
        payload = json.dumps({"to": [recipient], "body": body}).encode()
        sent = time.monotonic()
        if due is not None and sent - due > LATE:
            self.report.late_sends += 1
        self.report.sent += 1
        try:
            async with self.http.post("/v1/messages", data=payload) as response:
                answer = await response.read()
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            self.report.rejected[type(e).__name__] += 1
            return
        at = time.monotonic()
        if status != 202:
            self.report.rejected[status] += 1
            return
        message_id = json.loads(answer)["id"]
        key = (recipient, message_id)
        if key not in self.report.arrivals:  # a frame may beat its own 202
            self._pending.add(key)
            self._drained.clear()
        self.report.posts.append((message_id, recipient, sent if due is None else due, at))

    async def closed(self, concurrency: int, seconds: float, max_messages: int) -> None:
        deadline = time.monotonic() + seconds
        budget = iter(range(max_messages))

        async def lane() -> None:
            while time.monotonic() < deadline and next(budget, None) is not None:
                await self._post()

        started = time.monotonic()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        self.report.send_seconds = time.monotonic() - started

    async def open(self, rate: float, start: float, seconds: float, offset: float) -> None:
        tasks = []
        i = 0
        while (due := start + (i + offset) / rate) < start + seconds:
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self._post(due)))
            i += 1
        self.report.send_seconds = time.monotonic() - start
        await asyncio.gather(*tasks)

    async def phase(self, command: tuple) -> PhaseReport:
        self.report = PhaseReport()
        self._pending.clear()
        self._drained.set()
        cpu, wall = time.process_time(), time.monotonic()
        if command[0] == "closed":
            await self.closed(*command[1:])
        else:
            await self.open(*command[1:])
        try:
            await asyncio.wait_for(self._drained.wait(), self.spec.drain_timeout)
        except asyncio.TimeoutError:
            self.report.timed_out = True
        await asyncio.sleep(0.3)  # a moment for late duplicates
        self.report.cpu_seconds = time.process_time() - cpu
        self.report.wall_seconds = time.monotonic() - wall
        return self.report


async def _serve(spec: GeneratorSpec, conn) -> None:
    loop = asyncio.get_running_loop()
    generator = Generator(spec)
    # keepalive below gunicorn's 2 s, so the client never reuses a socket the server is closing
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=1.5)
    async with aiohttp.ClientSession(spec.base_url, connector=connector,
                                     headers={"Authorization": f"Bearer {spec.sender_token}",
                                              "Content-Type": "application/json"},
                                     timeout=aiohttp.ClientTimeout(total=30)) as http:
        generator.http = http
        await generator.connect_all()
        conn.send(("ready", len(spec.recipient_ids)))
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command[0] == "stop":
                break
            conn.send(("report", await generator.phase(command)))


def run_generator(spec: GeneratorSpec, conn) -> None:
    """Child process entry (multiprocessing, spawn)."""
    try:
        asyncio.run(_serve(spec, conn))
    except BaseException as e:  # tell the parent instead of leaving it waiting
        try:
            conn.send(("failed", repr(e)))
        except OSError:
            pass
        raise
