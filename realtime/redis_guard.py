"""One circuit breaker per Redis server and process, shared by the rings
and the presence store: while Redis is away every call fails fast (presence
unknown → offline → push; a lost ring is recovered from the stream)."""

from __future__ import annotations

import pybreaker

from pipeline.errors import DependencyUnavailable


class RedisGuard:
    def __init__(self, fail_max: int = 5, reset_timeout: float = 5):
        # `calling()`, not `call()`: pybreaker #55 holds its lock across
        # `call()`, which would serialize every thread's Redis calls.
        self._breaker = pybreaker.CircuitBreaker(fail_max=fail_max, reset_timeout=reset_timeout, name="redis",
                                                 throw_new_error_on_trip=False)

    @property
    def breaker(self) -> pybreaker.CircuitBreaker:
        """For listeners (the metrics' BreakerWatch); calls go through `call`."""
        return self._breaker

    def call(self, command, *args, **kwargs):
        """Run one Redis command (or a pipeline's `execute`) through the breaker.

        Raises:
            DependencyUnavailable: the breaker is open; Redis was not called.
        """
        try:
            with self._breaker.calling():
                return command(*args, **kwargs)
        except pybreaker.CircuitBreakerError:
            raise DependencyUnavailable("Redis calls are failing; the circuit is open") from None
