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
    """The doorbell: rings a user's live sockets, wherever they are held."""

    def ring(self, user_id: int, position: int | None, text: str) -> None: ...

    def ring_many(self, rings: list[tuple[int, int | None, str]]) -> None: ...


class Presence(Protocol):
    """The one session registry: live sessions per user, with their state and expiry."""

    def read_many(self, user_ids: list[int]) -> dict[int, tuple[dict[str, tuple[str, float]], float | None]]: ...

    def set_session(self, user_id: int, session_id: str, state: str, expires_at: float) -> None: ...

    def drop_sessions(self, user_id: int, session_ids: list[str]) -> None: ...

    def touch_last_seen(self, user_id: int, at: float, ttl_seconds: int) -> None: ...

    def swap_announced(self, user_id: int, state: str, ttl_seconds: int) -> str | None: ...

    def is_online(self, user_id: int, now: float) -> bool: ...


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
