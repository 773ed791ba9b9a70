"""Retry policy: which errors are worth retrying and how long to wait.

Wired into Dramatiq's Retries middleware (`retry_when`, `throws`), so no
actor holds a retry loop of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import PermanentError

DEFAULT_MAX_RETRIES = 6
DEFAULT_MIN_BACKOFF_MS = 1_000
# Far below RabbitMQ's 30-minute consumer timeout (dramatiq #827).
DEFAULT_MAX_BACKOFF_MS = 60_000


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = DEFAULT_MAX_RETRIES
    min_backoff_ms: int = DEFAULT_MIN_BACKOFF_MS
    max_backoff_ms: int = DEFAULT_MAX_BACKOFF_MS

    def should_retry(self, retries_so_far: int, error: BaseException) -> bool:
        """Retry transient errors until the budget is spent; never permanent ones."""
        if isinstance(error, PermanentError):
            return False
        return retries_so_far < self.max_retries

    def backoff_ms(self, retries_so_far: int, jitter: float) -> int:
        """1, 2, 4, 8 … seconds times `jitter` (a number in [1, 2)), capped."""
        base = self.min_backoff_ms * (2 ** min(retries_so_far, 20))
        return int(min(base * jitter, self.max_backoff_ms))
