"""A pybreaker listener that shows a breaker's state as a metric and on the
breaker board (realtime.breaker_board), at each change of state only."""

from __future__ import annotations

import time

import pybreaker

from metrics.workers import BREAKER_STATE, BREAKER_VALUES


class BreakerWatch(pybreaker.CircuitBreakerListener):
    def __init__(self, service: str, board=None):
        self.service = service
        self.board = board
        BREAKER_STATE.labels(service).set(0)  # a process with a breaker shows it closed from the start

    def state_change(self, breaker, old, new) -> None:
        state = new.name if hasattr(new, "name") else str(new)
        BREAKER_STATE.labels(self.service).set(BREAKER_VALUES.get(state, 2))
        if self.board is not None:
            self.board.report(self.service, state, time.time())


def watch(breaker: pybreaker.CircuitBreaker, service: str, board=None) -> None:
    breaker.add_listener(BreakerWatch(service, board))
