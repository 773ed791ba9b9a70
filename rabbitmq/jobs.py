"""Jobs in Dramatiq's wire format, built without an actor object."""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq


@dataclass(frozen=True)
class Job:
    """One message for one queue; `outbox_id` ties it to its outbox row."""

    outbox_id: int | None
    queue_name: str
    actor_name: str
    args: tuple

    def to_message(self) -> dramatiq.Message:
        return dramatiq.Message(
            queue_name=self.queue_name,
            actor_name=self.actor_name,
            args=tuple(self.args),
            kwargs={},
            options={},
        )

    def encode(self) -> bytes:
        return self.to_message().encode()
