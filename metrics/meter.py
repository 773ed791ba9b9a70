"""The pipeline's meter (usecases.ports.PipelineMeter) on Prometheus: the
use cases hand over what they already hold in memory, so counting costs no
statement and no round trip."""

from __future__ import annotations

from metrics.pipeline import ACCEPT_TO_SENT, ACCEPTED, DELIVERED, READ, SENT_TO_DELIVERED


class PrometheusMeter:
    def accepted(self, kind: str, priority: str) -> None:
        ACCEPTED.labels(kind, priority).inc()

    def sent(self, copies: list[tuple[str, float]]) -> None:
        """(priority, seconds since acceptance) per copy placed in a stream."""
        for priority, waited in copies:
            ACCEPT_TO_SENT.labels(priority).observe(max(waited, 0.0))

    def delivered(self, copies: list[tuple[str, str, float | None]]) -> None:
        """(kind, priority, seconds since sent) per copy acknowledged."""
        for kind, priority, waited in copies:
            DELIVERED.labels(kind, priority).inc()
            if waited is not None:
                SENT_TO_DELIVERED.labels(priority).observe(max(waited, 0.0))

    def read(self, copies: list[tuple[str, str]]) -> None:
        """(kind, priority) per copy marked read."""
        for kind, priority in copies:
            READ.labels(kind, priority).inc()
