"""Many idle WebSocket clients in one asyncio process (the `websockets`
library), so the clients' memory and CPU are not the server's.

A parent starts one or more of these processes (multiprocessing, spawn)
and talks to each over a Pipe:

    ("open", [token, …])  → ("opened", n, errors): sockets to open, each waits for its `ready` frame
    ("arrivals",)         → ("arrivals", {message id: (frames, first at, last at)})
    ("close",)            → ("closed",): close every socket and exit

Arrival times are time.monotonic() (CLOCK_MONOTONIC, the same clock in
every process on Linux), compared by the parent with its own send times.
Every `message` frame is counted per message id; the sockets never ack
(an idle or reading-only client).
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from multiprocessing.connection import Connection

from websockets.asyncio.client import connect

OPEN_AT_ONCE = 50  # handshakes in flight per client process (more only queue for the edge's pool)


class _Clients:
    def __init__(self, ws_url: str):
        self.url = f"{ws_url}/v1/ws?since=0"
        self.sockets: list = []
        self.readers: list[asyncio.Task] = []
        # message id → [frames, first arrival, last arrival]
        self.arrivals: dict[int, list] = {}
        self.errors: list[str] = []

    async def open(self, tokens: list[str]) -> int:
        gate = asyncio.Semaphore(OPEN_AT_ONCE)

        async def one(token: str) -> None:
            async with gate:
                try:
                    ws = await connect(self.url, additional_headers={"Authorization": f"Bearer {token}"},
                                       open_timeout=60, ping_interval=None, max_queue=None, proxy=None)
                    while json.loads(await ws.recv())["type"] != "ready":
                        pass
                except Exception as e:  # counted and reported, never hangs the parent
                    self.errors.append(f"{type(e).__name__}: {e}"[:200])
                    return
                self.sockets.append(ws)
                self.readers.append(asyncio.create_task(self._read(ws)))

        before = len(self.sockets)
        await asyncio.gather(*(one(t) for t in tokens))
        return len(self.sockets) - before

    async def _read(self, ws) -> None:
        try:
            async for text in ws:
                at = time.monotonic()
                if text.startswith('{"type":"message"'):
                    # the message's id is the first "id" inside "message"
                    head = text.partition('"message":{"id":')[2]
                    message_id = int(head[:head.index(",")])
                    seen = self.arrivals.get(message_id)
                    if seen is None:
                        self.arrivals[message_id] = [1, at, at]
                    else:
                        seen[0] += 1
                        seen[2] = at
        except Exception:
            pass

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


async def _serve(ws_url: str, pipe: Connection) -> None:
    clients = _Clients(ws_url)
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command[0] == "open":
            opened = await clients.open(command[1])
            pipe.send(("opened", opened, clients.errors[-5:]))
        elif command[0] == "arrivals":
            pipe.send(("arrivals", {k: tuple(v) for k, v in clients.arrivals.items()}))
        else:
            await clients.close()
            pipe.send(("closed",))
            return


def run(ws_url: str, pipe: Connection) -> None:
    """A client process's entry point (multiprocessing target)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(_serve(ws_url, pipe))
