"""Status webhooks in the embedded mode (SQLite): the same flagged
statements, events and dispatcher, including an expiry reported by the
maintenance sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from config import load_settings
from db.engine import UnitOfWork
from db.models import Message
from tests.conftest import JWT_SECRET
from tests.integration.test_embedded_ttl import sessions  # noqa: F401  (fixture)
from tests.integration.webhook_support import WEBHOOK_ENV, now, pump
from tests.support.webhook_receiver import start_receiver
from usecases.messaging.acks import record_acks
from usecases.messaging.deliver import deliver_message
from usecases.operations.maintenance import tidy
from workers.webhook_http import RequestsWebhookClient


@pytest.fixture
def settings(tmp_path):
    return load_settings({"HERALD_DATA_DIR": str(tmp_path / "data"), "JWT_SECRET": JWT_SECRET,
                          "RATE_LIMITS": "off", "HERALD_DEMO": "off", **WEBHOOK_ENV})


@pytest.fixture
def receiver():
    receiver = start_receiver()
    yield receiver
    receiver.close()


def test_status_events_on_sqlite(app, client, auth, sessions, receiver):  # noqa: F811
    ports = app.extensions["herald"].ports
    assert ports.sessions().get_bind().dialect.name == "sqlite"
    business, somchai, malee = auth.user("business", username="acme"), auth.user("mobile"), auth.user("mobile")
    endpoint = client.post("/v1/webhooks", json={"url": receiver.url, "events": ["message.status"]},
                           headers=auth.headers(business)).json
    message = client.post("/v1/messages", json={"to": [somchai.id], "body": "hi"},
                          headers=auth.headers(business)).json["id"]
    doomed = client.post("/v1/messages", json={"to": [malee.id], "body": "late", "ttl_seconds": 3600},
                         headers=auth.headers(business)).json["id"]
    deliver_message(ports, message, now())
    record_acks(ports, somchai.id, 0, 1, now())  # read at once: delivered is reported before it
    with UnitOfWork(sessions) as uow:
        uow.session.execute(update(Message).where(Message.id == doomed)
                            .values(expires_at=now() - timedelta(seconds=1)))
        uow.commit()
    tidy(sessions, now())  # the maintenance sweep expires it, and reports it
    pump(ports, RequestsWebhookClient())
    events = receiver.accepted()
    assert [(e["data"]["message_id"], e["data"]["status"], e["sequence"]) for e in events] == [
        (message, "sent", 1), (message, "delivered", 2), (message, "read", 3), (doomed, "expired", 4)]
    assert receiver.verified(endpoint["secret"])
