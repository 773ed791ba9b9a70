"""The `deliver_webhooks` actor: send one endpoint's pending events, in order
(usecases.webhooks.dispatch). Retries are the dispatcher's own schedule
through the outbox, so a failure here is only a database error."""

from __future__ import annotations

from datetime import datetime, timezone

import dramatiq

from pipeline.contract import DELIVER_WEBHOOKS, WEBHOOKS_QUEUE
from usecases.webhooks.dispatch import dispatch
from workers.broker import runtime, webhook_client


@dramatiq.actor(actor_name=DELIVER_WEBHOOKS, queue_name=WEBHOOKS_QUEUE)
def deliver_webhooks(endpoint_id: int) -> None:
    dispatch(runtime().ports, webhook_client(), endpoint_id, lambda: datetime.now(timezone.utc))
