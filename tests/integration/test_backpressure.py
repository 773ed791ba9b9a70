"""The edge answers 503 with Retry-After when the delivery queues back up."""

import pytest
from sqlalchemy import func, select

from db.engine import UnitOfWork
from db.models import Message
from rabbitmq.depths import FixedDepth, QueueDepths
from web import create_app


@pytest.fixture
def depth():
    return FixedDepth(0)


@pytest.fixture
def app(settings, sessions, publisher, depth):
    return create_app(settings, publisher=publisher, depths=depth, test_config={"TESTING": True})


def test_a_backlog_refuses_low_then_normal_while_high_is_still_accepted(client, auth, sessions, depth):
    business = auth.user("business", username="acme")
    somchai = auth.user("mobile")
    depth.depth = 25_000

    def send(priority):
        return client.post("/v1/messages", json={"to": [somchai.id], "body": "x", "priority": priority},
                           headers=auth.headers(business))

    low, normal, high = send("low"), send("normal"), send("high")
    assert (low.status_code, normal.status_code, high.status_code) == (503, 503, 202)
    assert low.json["code"] == "overloaded" and int(low.headers["Retry-After"]) >= 1
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Message)) == 1


def test_queue_depths_are_measured_on_the_real_broker(broker_url):
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    channel = connection.channel()
    channel.queue_declare("depth-probe", durable=False, auto_delete=False)
    for _ in range(7):
        channel.basic_publish("", "depth-probe", b"x")
    depths = QueueDepths(broker_url, ["depth-probe"], interval_seconds=0.1)
    import time

    deadline = time.monotonic() + 5
    while depths.deepest() != 7 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert depths.deepest() == 7
    channel.queue_delete("depth-probe")
    connection.close()
