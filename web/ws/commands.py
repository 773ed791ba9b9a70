"""What a socket does with a client's chat frames (send, read, typing,
presence): the same use cases as the HTTP endpoints, answered as frames."""

from __future__ import annotations

from metrics.edge import IDEMPOTENT_REPLAYS
from pipeline.errors import HeraldError
from pipeline.frames import ClientFrame, error_frame
from usecases.chat.send import read_conversation, send_chat
from web.ws.signals import SocketSignals


def handle(res, user_id: int, frame: ClientFrame, context: int | None,
           signals: SocketSignals | None = None) -> list[dict]:
    """Frames to send back to this socket (errors included, never raised)."""
    raw = frame.raw or {}
    try:
        if frame.type == "send":
            return [_send(res, user_id, raw, context)]
        if frame.type == "read_conversation":
            read_conversation(res.ports, user_id, raw["conversation_id"], raw["up_to_seq"], context)
            return []
        handler = EPHEMERAL.get(frame.type)
        return handler(signals, raw) if handler and signals else []
    except HeraldError as e:
        answer = error_frame(e.code, e.detail)
        if "client_msg_id" in raw:
            answer["client_msg_id"] = raw["client_msg_id"]
        return [answer]


def _send(res, user_id: int, raw: dict, context: int | None) -> dict:
    accepted = send_chat(res.ports, user_id, raw["conversation_id"], raw["body"], raw["client_msg_id"], context)
    if accepted.replayed:
        IDEMPOTENT_REPLAYS.labels(SOCKET_SEND).inc()
    return {"type": "sent", "client_msg_id": raw["client_msg_id"], "message_id": accepted.message.id,
            "conversation_id": accepted.message.conversation_id, "seq": accepted.message.seq,
            "replayed": accepted.replayed}


# The `route` label of a replayed socket `send` (HTTP replays carry their URL rule).
SOCKET_SEND = "/v1/ws send"

# Typing and presence are relayed, never stored; they need the socket's own
# state (its session, its typing rate limit), so they take its SocketSignals.
EPHEMERAL = {"typing": SocketSignals.on_typing, "presence": SocketSignals.on_presence}
