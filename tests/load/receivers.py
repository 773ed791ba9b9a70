"""The receiving side of the one-way benchmark, run in its own process so
the WebSocket clients do not share a GIL with the posting threads.

One thread per recipient holds a real StreamClient and records every frame
it gets as (recipient index, message id, position, arrival time). Arrival
times are time.monotonic() — CLOCK_MONOTONIC, the same clock in every
process on Linux — so the parent compares them with its own 202 times.

Acks are cumulative positions: `frame` sends one ack per message frame
(the device acks each frame as it is shown); `batch` acks the highest
position once no further frame is waiting on the socket.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from websockets.exceptions import ConnectionClosed

from tests.support.clients import StreamClient

ACK_MODES = ("frame", "batch")


@dataclass
class ReceiverReport:
    # The benchmark's own message frames: (recipient, message id, position, arrival time).
    frames: list[tuple[int, int, int, float]] = field(default_factory=list)
    # Frames that are not the benchmark's messages (another sender's body):
    # (recipient, message id, position, first characters of the body).
    foreign: list[tuple[int, int, int, str]] = field(default_factory=list)
    other_frames: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0
    errors: list[str] = field(default_factory=list)


class _Recipient(threading.Thread):
    def __init__(self, index: int, ws_url: str, token: str, ack: str, body_prefix: str,
                 stop: threading.Event, counter, counter_lock: threading.Lock):
        super().__init__(name=f"recipient-{index}", daemon=True)
        self.body_prefix = body_prefix
        self.index, self.ws_url, self.token, self.ack = index, ws_url, token, ack
        self.stop, self.counter, self.counter_lock = stop, counter, counter_lock
        self.report = ReceiverReport()
        self.last_position = 0
        self.ready = threading.Event()
        self.client: StreamClient | None = None

    def connect_initial(self) -> None:
        self.client = StreamClient(self.ws_url, self.token, since=0)
        frames, ready = self.client.until_ready(timeout=30)
        for frame in frames:
            self._record(frame, time.monotonic())
        self.last_position = max(self.last_position, ready["position"])

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    self._receive_until_stopped()
                except (ConnectionClosed, OSError) as e:
                    if self.stop.is_set():
                        break
                    self.report.errors.append(f"recipient {self.index}: {e!r}; reconnecting")
                    self.report.reconnects += 1
                    self._close()
                    time.sleep(0.2)
                    # Resume after what we saw: a missed frame is replayed,
                    # a seen one must not come again.
                    self.client = StreamClient(self.ws_url, self.token, since=self.last_position)
        except Exception as e:  # report, never hang the benchmark
            self.report.errors.append(f"recipient {self.index} gave up: {e!r}")
        finally:
            self._close()

    def _receive_until_stopped(self) -> None:
        unacked = None
        while not self.stop.is_set():
            try:
                # Batch mode peeks (timeout 0) while there is something to ack.
                wait = 0 if (self.ack == "batch" and unacked is not None) else 0.5
                frame = self.client.next(timeout=wait)
            except TimeoutError:
                if unacked is not None:
                    self.client.send({"type": "ack", "position": unacked})
                    unacked = None
                continue
            position = self._record(frame, time.monotonic())
            if position is not None:
                if self.ack == "frame":
                    self.client.send({"type": "ack", "position": position})
                else:
                    unacked = position

    def _record(self, frame: dict, at: float) -> int | None:
        if frame.get("type") != "message":
            kind = frame.get("type", "?")
            self.report.other_frames[kind] = self.report.other_frames.get(kind, 0) + 1
            return None
        position = frame["position"]
        message = frame["message"]
        if str(message.get("body", "")).startswith(self.body_prefix):
            self.report.frames.append((self.index, message["id"], position, at))
        else:  # kept apart: its id may equal one of ours (another database's sequence)
            self.report.foreign.append((self.index, message["id"], position, str(message.get("body"))[:40]))
        self.last_position = max(self.last_position, position)
        with self.counter_lock:
            self.counter.value += 1
        return position

    def _close(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except Exception:
                pass
            self.client = None


def run_receivers(ws_url: str, tokens: list[str], ack: str, body_prefix: str, ready, stop, counter,
                  results, deadline_seconds: float) -> None:
    """Child process entry: connect everyone, signal `ready`, record until
    `stop` (or the deadline), then put the merged report on `results`.
    A message whose body does not start with `body_prefix` is foreign."""
    local_stop = threading.Event()
    counter_lock = threading.Lock()
    recipients = [_Recipient(i, ws_url, t, ack, body_prefix, local_stop, counter, counter_lock)
                  for i, t in enumerate(tokens)]
    merged = ReceiverReport()
    try:
        for r in recipients:
            r.connect_initial()
        for r in recipients:
            r.start()
        ready.set()
        stop.wait(deadline_seconds)
    except Exception as e:  # `ready` stays unset: the parent sees this process end
        merged.errors.append(f"receivers failed to start: {e!r}")
    finally:
        local_stop.set()
        for r in recipients:
            if r.is_alive():
                r.join(5)
            merged.frames += r.report.frames
            merged.foreign += r.report.foreign
            merged.reconnects += r.report.reconnects
            merged.errors += r.report.errors
            for kind, n in r.report.other_frames.items():
                merged.other_frames[kind] = merged.other_frames.get(kind, 0) + n
            if r.client is not None:
                r._close()
        results.put(merged)
