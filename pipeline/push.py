"""Push notifications as plain values: what to send to a device, and what a
provider's refusal means (prune the token, retry later, or give up).

No I/O: the worker's FCM adapter turns a `PushPayload` into a
firebase-admin message and a firebase error into the plain facts
`classify_failure` reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

PLATFORMS = ("android", "ios", "web")

# pushes.status
SENDING = "sending"
SENT = "sent"
LOGGED = "logged"  # embedded mode: written to the outbox table, no provider
FAILED = "failed"
PRUNED = "pruned"
SETTLED = frozenset({SENT, LOGGED, FAILED, PRUNED})

# What to do after a provider refused a push.
PRUNE = "prune"
RETRY = "retry"
REJECT = "reject"

# FCM limits a whole message to 4 KiB; lock screens show far less anyway.
TITLE_MAX_CHARS = 64
BODY_MAX_CHARS = 240
ELLIPSIS = "…"

_DEAD_TOKEN_CODES = frozenset({"UNREGISTERED", "SENDER_ID_MISMATCH"})
_BUSY_CODES = frozenset({"QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL"})
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Our credentials or the project's setup, not the message: operators fix
# those, so keep retrying (bounded) and let the breaker stop the hammering.
_OUR_SETUP_STATUSES = frozenset({401, 403})


@dataclass(frozen=True)
class PushPayload:
    token: str
    platform: str
    title: str
    body: str
    data: dict[str, str]
    urgent: bool

    @property
    def android_priority(self) -> str:
        return "high" if self.urgent else "normal"

    @property
    def apns_priority(self) -> str:
        # APNs: 10 = deliver now, 5 = at a power-friendly time.
        return "10" if self.urgent else "5"

    @property
    def webpush_urgency(self) -> str:
        return "high" if self.urgent else "normal"


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, an ellipsis marking the cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)] + ELLIPSIS


def build_push(message: dict, position: int | None, token: str, platform: str) -> PushPayload:
    """The notification for one device about one stream item.

    `message` is the stream's view of the message (what a socket frame
    carries); `data` lets the app open the right place and resume the
    stream from `position`. FCM wants every data value as a string.
    """
    sender = message.get("sender") or {}
    data = {"type": "message", "message_id": str(message["id"]), "kind": str(message["kind"])}
    if position is not None:
        data["position"] = str(position)
    return PushPayload(
        token=token,
        platform=platform,
        title=truncate(sender.get("name") or "New message", TITLE_MAX_CHARS),
        body=truncate(message["body"], BODY_MAX_CHARS),
        data=data,
        # Chat and transactional messages should wake the device; only
        # `low` (marketing, broadcasts) may wait for a convenient moment.
        urgent=message.get("priority") != "low",
    )


def classify_failure(fcm_code: str | None, http_status: int | None) -> str:
    """PRUNE, RETRY or REJECT for a refused push.

    `fcm_code` is the FcmError detail's `errorCode` (UNREGISTERED, …);
    `http_status` is None when no answer arrived (network, timeout).
    A 404 without an FcmError code is not pruned: a wrong endpoint or
    project answers 404 too, and pruning every token is unrecoverable.
    """
    if fcm_code in _DEAD_TOKEN_CODES:
        return PRUNE
    if fcm_code in _BUSY_CODES or http_status is None:
        return RETRY
    if http_status in _RETRY_STATUSES or http_status in _OUR_SETUP_STATUSES or http_status >= 500:
        return RETRY
    return REJECT


def retry_after_ms(header: str | None, now: datetime, cap_ms: int) -> int | None:
    """A Retry-After header (seconds or an HTTP date) in milliseconds, capped.

    None when absent or unreadable. The cap keeps delayed retries far below
    RabbitMQ's consumer timeout (dramatiq #827).
    """
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        delay_ms = int(header) * 1000
    else:
        try:
            delay_ms = int((parsedate_to_datetime(header) - now).total_seconds() * 1000)
        except (TypeError, ValueError):
            return None
    return max(0, min(delay_ms, cap_ms))
