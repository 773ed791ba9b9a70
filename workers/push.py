"""The `send_push` actor: notify the offline recipients' devices of one message
(`user_ids` a list; a single id, the form of older jobs, is still accepted)."""

from __future__ import annotations

import dramatiq

from pipeline.contract import PUSH_QUEUE, SEND_PUSH
from usecases.messaging import push
from workers.broker import runtime
from workers.metrics import CountedSender


@dramatiq.actor(actor_name=SEND_PUSH, queue_name=PUSH_QUEUE)
def send_push(message_id: int, user_ids: int | list[int]) -> None:
    """Raises: TransientError (retried later), PushRejected (a dead letter)."""
    rt = runtime()
    push.send_push(rt.ports.sessions, CountedSender(rt.push_sender), message_id, user_ids)
