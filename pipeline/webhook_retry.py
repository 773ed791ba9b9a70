"""When a failed webhook event is tried again, and when it is given up.

Exponential backoff from `first_delay` doubling up to `max_delay`, for
`window` after the first attempt; after that the event is failed and its
endpoint disabled. Delays this long (minutes to an hour) never ride a
delayed broker message — RabbitMQ's consumer timeout (dramatiq #827) — but
the outbox's `available_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class WebhookSchedule:
    first_delay_seconds: float = 30.0
    max_delay_seconds: float = 3600.0
    window_seconds: float = 24 * 3600.0

    def delay(self, attempts: int, jitter: float = 1.0) -> timedelta:
        """The wait after the `attempts`-th failed attempt (1, 2, …); `jitter` in [1, 1.25)."""
        base = self.first_delay_seconds * (2 ** min(max(attempts - 1, 0), 30))
        return timedelta(seconds=min(base * jitter, self.max_delay_seconds))

    def given_up(self, first_attempt_at: datetime, now: datetime) -> bool:
        """True once the event has failed for the whole window."""
        return now - first_attempt_at >= timedelta(seconds=self.window_seconds)

    def attempts_in_window(self) -> int:
        """About how many attempts fit in the window (documentation, tests)."""
        elapsed, attempts = 0.0, 1
        while True:
            elapsed += self.delay(attempts).total_seconds()
            if elapsed >= self.window_seconds:
                return attempts
            attempts += 1
