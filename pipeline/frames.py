"""WebSocket frame rules (protocol v1): pure functions the socket loop calls.

The edge only moves frames; what a frame means, how positions advance and
what a client may acknowledge are decided here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pipeline.errors import BadRequest, PayloadTooLarge

PROTOCOL_VERSION = 1
CLIENT_TYPES = frozenset({"ack", "read", "ping"})


@dataclass(frozen=True)
class ClientFrame:
    type: str
    position: int | None = None
    raw: dict | None = None


def parse_client_frame(data: str | bytes, max_bytes: int) -> ClientFrame:
    """Validate one frame from a client.

    Raises:
        PayloadTooLarge: the frame is larger than `max_bytes`.
        BadRequest: not JSON, not an object, unknown type or bad position.
    """
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"frames are limited to {max_bytes} bytes")
    try:
        frame = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("frame is not valid JSON") from None
    if not isinstance(frame, dict) or frame.get("type") not in CLIENT_TYPES:
        raise BadRequest(f"frame type must be one of {sorted(CLIENT_TYPES)}")
    position = frame.get("position")
    if frame["type"] in ("ack", "read"):
        if type(position) is not int or position < 0:
            raise BadRequest("position must be a non-negative integer")
    return ClientFrame(type=frame["type"], position=position, raw=frame)


def clamp_ack(requested: int, last_sent: int) -> int:
    """A client may acknowledge only what this connection has sent it."""
    return max(0, min(requested, last_sent))


def next_action(last_sent: int, position: int) -> str:
    """What to do with a live item at `position` after `last_sent`.

    "skip": already sent (replay and live overlap, or a duplicate ring);
    "send": exactly the next one; "fill": a gap — read it from the store.
    """
    if position <= last_sent:
        return "skip"
    return "send" if position == last_sent + 1 else "fill"


def message_frame(position: int, message: dict) -> dict:
    return {"type": "message", "position": position, "message": message}


def ready_frame(position: int) -> dict:
    return {"type": "ready", "position": position, "protocol": PROTOCOL_VERSION}


def error_frame(code: str, detail: str) -> dict:
    return {"type": "error", "code": code, "detail": detail}


def pong_frame() -> dict:
    return {"type": "pong"}


def encode(frame: dict) -> str:
    """Frames are encoded once and the same text is sent to every socket."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
