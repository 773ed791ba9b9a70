"""The ports the use cases take: what they may touch outside the database.

Composition roots (`web.app.create_app`, `workers.broker`, the embedded
launcher, the CLI) build concrete adapters — `rabbitmq.publisher`,
`realtime` — and small frozen policies from the settings, once. Use cases
see only these protocols and policies, never `Settings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Protocol

from sqlalchemy.orm import Session

from pipeline.jobs import Job
from pipeline.rings import Peal, Ring

SessionFactory = Callable[[], Session]


class Publisher(Protocol):
    """Publishes committed jobs after the commit; marks what the broker took.

    Whatever it fails to publish stays unmarked in the outbox, where the
    sweeper finds it: `submit` never raises for the broker's sake.
    """

    def submit(self, jobs: Iterable[Job]) -> None: ...

    def flush(self, timeout: float = 10.0) -> bool: ...


class Sender(Protocol):
    """Sends jobs now, raising if the broker did not take them all (the sweeper's way)."""

    def send(self, jobs: list[Job]) -> None: ...


class Realtime(Protocol):
    """The doorbell: rings a user's live sockets, wherever they are held.

    A ring carries its stream position (None: ephemeral) and conversation
    beside the encoded frame, so the edge routes it without decoding it.
    Best effort: a lost ring is found in the stream by position.
    """

    def ring(self, user_id: int, position: int | None, text: str, conversation_id: int | None = None) -> None: ...

    def ring_many(self, rings: Iterable[Ring | Peal]) -> None:
        """Rings, and peals (one frame to many users: a large group's, sent
        once to every edge process, not once per user), in this order."""
        ...

    def control(self, text: str) -> None:
        """Tell every edge process (pipeline.control: revocations). Best effort:
        an edge that missed it re-reads the database."""


Sessions = dict[str, tuple[str, float]]  # session id → (state, expiry in epoch seconds)


class Presence(Protocol):
    """The one session registry: live sessions per user, with their state
    and expiry; what presence shows and whether a delivery pushes."""

    def refresh_session(self, user_id: int, session_id: str, state: str, expires_at: float,
                        seen_at: float, last_seen_ttl: int) -> tuple[Sessions, str | None]:
        """Write a session and last seen; the user's sessions and announced state, same round trip."""

    def end_session(self, user_id: int, session_id: str, seen_at: float,
                    last_seen_ttl: int) -> tuple[Sessions, str | None]: ...

    def drop_sessions(self, user_id: int, session_ids: list[str]) -> None: ...

    def read_many(self, user_ids: list[int]) -> dict[int, tuple[Sessions, float | None]]: ...

    def online_among(self, user_ids: list[int], now: float) -> set[int]: ...

    def is_online(self, user_id: int, now: float) -> bool: ...

    def swap_announced(self, user_id: int, state: str, ttl_seconds: int) -> str | None: ...

    def due(self, now: float) -> list[int]: ...

    def unwatch(self, user_id: int) -> None: ...

    def connected_count(self, now: float) -> int:
        """How many users have a live session (the admin dashboard)."""


class KeyCache(Protocol):
    """What API keys' hashes stand for, shared by every edge process (D76);
    a revocation written here holds everywhere at once."""

    def lookup(self, secret_hash: str, touch_seconds: int) -> tuple[str | None, bool]:
        """(the cached entry or None, whether the key's last use should be written now)."""

    def fill(self, secret_hash: str, entry: str, ttl_seconds: int) -> None:
        """Cache an entry unless one is there (a revocation is never overwritten)."""

    def revoke(self, secret_hash: str) -> None: ...


@dataclass(frozen=True)
class WebhookAnswer:
    """What one POST to a receiver came to: its status code (None: no
    answer), the error if it was not a success, how long it took."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


class WebhookClient(Protocol):
    """Resolves receivers' hosts and POSTs signed events to them (no
    redirects followed, a timeout, a circuit breaker per endpoint)."""

    def resolve(self, host: str) -> list[str]: ...

    def post(self, endpoint_id: int, url: str, address: str, body: bytes, headers: dict[str, str],
             timeout: float) -> WebhookAnswer:
        """POST to `url`, connecting to `address` (the one checked), never re-resolving the host."""


class CodeSender(Protocol):
    """Texts a sign-in code to a phone number (E.164)."""

    def send_code(self, phone: str, code: str) -> None: ...


class PipelineMeter(Protocol):
    """Counts what the pipeline does (metrics.meter on Prometheus). Use cases
    hand over what they already hold: no statement, no round trip, never raises."""

    def accepted(self, kind: str, priority: str) -> None: ...

    def sent(self, copies: list[tuple[str, float]]) -> None:
        """(priority, seconds since acceptance) per copy placed in a stream."""

    def delivered(self, copies: list[tuple[str, str, float | None]]) -> None:
        """(kind, priority, seconds since sent) per copy acknowledged."""

    def read(self, copies: list[tuple[str, str]]) -> None:
        """(kind, priority) per copy marked read."""


class NoMeter:
    """Counts nothing (tests and tools that build their own ports)."""

    def accepted(self, kind: str, priority: str) -> None:
        pass

    def sent(self, copies) -> None:
        pass

    def delivered(self, copies) -> None:
        pass

    def read(self, copies) -> None:
        pass


@dataclass(frozen=True)
class OutboxPolicy:
    """How jobs are routed and how long a publisher has before the sweeper steps in."""

    partitions: int = 4
    grace_seconds: int = 5


@dataclass(frozen=True)
class ChatPolicy:
    """Limits of conversations and messages, from the settings."""

    group_member_limit: int = 256
    edit_window_seconds: int = 900
    max_body_chars: int = 10_000
    typing_ttl_seconds: int = 5


@dataclass(frozen=True)
class PushPolicy:
    """Whether offline recipients get push jobs at all."""

    enabled: bool = True


@dataclass(frozen=True)
class PhonePolicy:
    """How numbers without a country code are read (DEFAULT_PHONE_REGION; None: "+" required)."""

    default_region: str | None = None


@dataclass(frozen=True)
class SignInPolicy:
    """Lifetimes and limits of sign-in codes and sessions (no defaults: the
    pepper is a secret, and the edge is the only one that signs anybody in)."""

    otp_ttl_seconds: int
    otp_max_attempts: int
    refresh_ttl_seconds: int
    otp_pepper: str  # keys the stored digests of sign-in codes


@dataclass(frozen=True)
class WebhookPolicy:
    """What webhook URLs may be, how long a receiver has, and the retry
    schedule (pipeline.webhook_retry), from the settings."""

    allow_http: bool = False
    allow_private: bool = False
    timeout_seconds: float = 10.0
    first_delay_seconds: float = 30.0
    max_delay_seconds: float = 3600.0
    window_seconds: float = 24 * 3600.0
    rotation_overlap_seconds: int = 24 * 3600
    stall_seconds: int = 60  # a due event nobody works on this long gets its dispatcher woken


@dataclass(frozen=True)
class Ports:
    """Everything a use case may touch, built once by a composition root.

    Each use case names the fields it uses; tests build one with real
    adapters (or the in-process ones) and call the use case directly.
    """

    sessions: SessionFactory
    publisher: Publisher
    realtime: Realtime
    presence: Presence
    outbox: OutboxPolicy = OutboxPolicy()
    chat: ChatPolicy = ChatPolicy()
    push: PushPolicy = PushPolicy()
    meter: PipelineMeter = NoMeter()
    phones: PhonePolicy = PhonePolicy()
    # The edge's API key cache; None (workers, commands) reads keys from the database.
    key_cache: KeyCache | None = None
    webhooks: WebhookPolicy = WebhookPolicy()
