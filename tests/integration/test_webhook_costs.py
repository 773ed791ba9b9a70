"""What webhooks add to the hot path, counted: nothing for a sender delivering
an endpoint (tests/integration/test_edge_costs.py and test_worker_costs.py
are unchanged), and a fixed number of statements per transaction — not per
message — for a sender with one."""

from __future__ import annotations

import pytest

from tests.integration.webhook_support import WEBHOOK_ENV, now
from tests.support.statement_counts import counting_statements
from usecases.messaging.acks import record_acks
from usecases.messaging.deliver import deliver_message


@pytest.fixture
def env(env):
    return {**env, **WEBHOOK_ENV}


@pytest.mark.parametrize("recipients", [1, 20])
def test_delivering_and_acking_cost_the_same_statements_whatever_the_recipients(client, auth, app, recipients):
    business = auth.user("business", username="acme")
    users = [auth.user("mobile") for _ in range(recipients)]
    headers = auth.headers(business)
    assert client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hooks", "events": ["message.status"]},
                       headers=headers).status_code == 201
    message = client.post("/v1/messages", json={"to": [u.id for u in users], "body": "hi"}, headers=headers).json["id"]
    ports = app.extensions["herald"].ports
    with counting_statements() as delivering:
        deliver_message(ports, message, now())
    delivering.show(f"deliver, {recipients} recipient(s), sender with an endpoint")
    # message; lock streams; pending (+ flags); positions; stream ends; the
    # events: endpoints, phones, insert; the dispatcher's outbox row
    assert (delivering.count, delivering.commits) == (9, 1)
    with counting_statements() as acks:
        record_acks(ports, users[0].id, 1, 1, now())
    acks.show("ack and read, sender with an endpoint")
    # ack; read; endpoints, phones, insert; outbox
    assert (acks.count, acks.commits) == (6, 1)
