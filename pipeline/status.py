"""Per-recipient delivery status: a forward-only state machine.

accepted → queued → sent → delivered → read, or failed / expired (terminal).
Events may arrive in any order (an ack overtaking a `sent` write, a late
retry); applying them through `advance` never moves a status backwards.
"""

from __future__ import annotations

ACCEPTED = "accepted"
QUEUED = "queued"
SENT = "sent"
DELIVERED = "delivered"
READ = "read"
FAILED = "failed"
EXPIRED = "expired"

PROGRESS = (ACCEPTED, QUEUED, SENT, DELIVERED, READ)
TERMINAL_FAILURES = (FAILED, EXPIRED)
ALL = PROGRESS + TERMINAL_FAILURES

_RANK = {status: rank for rank, status in enumerate(PROGRESS)}
# A message can only fail or expire while it has not reached the device.
_FAILABLE = frozenset({ACCEPTED, QUEUED, SENT})


def can_advance(current: str, target: str) -> bool:
    """True when moving from `current` to `target` is a step forward."""
    _check(current)
    _check(target)
    if current in TERMINAL_FAILURES or current == READ:
        return False
    if target in TERMINAL_FAILURES:
        return current in _FAILABLE
    return _RANK[target] > _RANK[current]


def advance(current: str, target: str) -> str:
    """The status after applying `target` to `current`: never backwards."""
    return target if can_advance(current, target) else current


def predecessors(target: str) -> frozenset[str]:
    """Every status from which `target` is a step forward (for SQL filters)."""
    return frozenset(status for status in ALL if can_advance(status, target))


def is_terminal(status: str) -> bool:
    """True when no further status change is possible."""
    _check(status)
    return not any(can_advance(status, target) for target in ALL)


def _check(status: str) -> None:
    if status not in _RANK and status not in TERMINAL_FAILURES:
        raise ValueError(f"unknown status {status!r}")
