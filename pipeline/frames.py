"""WebSocket frame rules (protocol v1): pure functions the socket loop calls.

The edge only moves frames; what a frame means, how positions advance and
what a client may acknowledge are decided here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pipeline.errors import BadRequest, PayloadTooLarge

PROTOCOL_VERSION = 1
CLIENT_TYPES = frozenset({"ack", "read", "ping", "send", "typing", "presence"})
MAX_BODY_CHARS = 10_000


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
    if frame["type"] == "read" and "conversation_id" in frame:
        _check_conversation_read(frame)
        return ClientFrame(type="read_conversation", raw=frame)
    position = frame.get("position")
    if frame["type"] in ("ack", "read"):
        if type(position) is not int or position < 0:
            raise BadRequest("position must be a non-negative integer")
    _CHECKS.get(frame["type"], lambda f: None)(frame)
    return ClientFrame(type=frame["type"], position=position, raw=frame)


def _natural(frame: dict, name: str) -> None:
    if type(frame.get(name)) is not int or frame[name] < 0:
        raise BadRequest(f"{name} must be a non-negative integer")


def _check_conversation_read(frame: dict) -> None:
    _natural(frame, "conversation_id")
    _natural(frame, "up_to_seq")


def _check_send(frame: dict) -> None:
    _natural(frame, "conversation_id")
    body, client_id = frame.get("body"), frame.get("client_msg_id")
    if not isinstance(body, str) or not 1 <= len(body) <= MAX_BODY_CHARS:
        raise BadRequest(f"body must be a string of 1 to {MAX_BODY_CHARS} characters")
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= 64:
        raise BadRequest("client_msg_id must be a string of 1 to 64 characters")


def _check_typing(frame: dict) -> None:
    _natural(frame, "conversation_id")
    if frame.get("state") not in ("start", "stop"):
        raise BadRequest("state must be start or stop")


def _check_presence(frame: dict) -> None:
    if frame.get("state") not in ("online", "away"):
        raise BadRequest("state must be online or away")


_CHECKS = {"send": _check_send, "typing": _check_typing, "presence": _check_presence}


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


def event_frame(kind: str, position: int | None, payload: dict) -> dict:
    """A stream event (receipt, reaction, edit, …); `position` None for
    ephemeral ones (typing, presence) that are never stored."""
    frame = {"type": kind, **payload}
    if position is not None:
        frame["position"] = position
    return frame


def ready_frame(position: int) -> dict:
    return {"type": "ready", "position": position, "protocol": PROTOCOL_VERSION}


def error_frame(code: str, detail: str) -> dict:
    return {"type": "error", "code": code, "detail": detail}


def pong_frame() -> dict:
    return {"type": "pong"}


def encode(frame: dict) -> str:
    """Frames are encoded once and the same text is sent to every socket."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
