"""Typing indicators: when a socket's typing frame is relayed, and what the
others receive. Never stored; the receiving client expires the indicator
itself after `expires_in` seconds unless a new `start` renews it.

Per socket and conversation, at most one `start` is relayed per
`MIN_INTERVAL_SECONDS`; a `stop` is relayed only after a relayed `start`
(so it is never lost to the limit, and never repeated). Excess frames are
dropped silently. Pure: `now` (monotonic seconds) is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

START, STOP = "start", "stop"
MIN_INTERVAL_SECONDS = 1.0
# A socket typing in more conversations at once than this is misbehaving.
MAX_TRACKED_CONVERSATIONS = 32


@dataclass(frozen=True)
class LastRelay:
    state: str
    started_at: float  # when the last `start` was relayed


def may_relay(last: LastRelay | None, state: str, now: float) -> bool:
    if state == STOP:
        return last is not None and last.state == START
    return last is None or now - last.started_at >= MIN_INTERVAL_SECONDS


def after_relay(last: LastRelay | None, state: str, now: float) -> LastRelay:
    if state == START:
        return LastRelay(START, now)
    return LastRelay(STOP, last.started_at if last else now)


def gate(relays: dict[int, LastRelay], conversation_id: int, state: str, now: float,
         ttl_seconds: float) -> dict[int, LastRelay] | None:
    """The socket's new relay record if this frame may be relayed, else None.

    Records older than the indicator's ttl are forgotten: the receivers
    have expired them already, so a late `stop` is not needed.
    """
    fresh = {cid: r for cid, r in relays.items() if now - r.started_at < max(ttl_seconds, MIN_INTERVAL_SECONDS)}
    last = fresh.get(conversation_id)
    if last is None and len(fresh) >= MAX_TRACKED_CONVERSATIONS:
        return None
    if not may_relay(last, state, now):
        return None
    return {**fresh, conversation_id: after_relay(last, state, now)}


def typing_payload(conversation_id: int, user_id: int, state: str, ttl_seconds: int) -> dict:
    return {"conversation_id": conversation_id, "user_id": user_id, "state": state, "expires_in": ttl_seconds}
