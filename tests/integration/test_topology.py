"""The broker definitions match what the applications declare."""

from pathlib import Path

import pika
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from rabbitmq.definitions import definitions, render
from rabbitmq.topology import declare_all

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_definitions_file_is_the_generated_one():
    assert (ROOT / "rabbitmq" / "definitions.json").read_text() == render(4)


def test_queues_declared_from_the_definitions_are_accepted_by_dramatiq_and_the_edge(broker_url):
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    channel = connection.channel()
    for queue in definitions(2)["queues"]:
        channel.queue_declare(queue["name"], durable=True, arguments=queue["arguments"])
    # Redeclaring with other arguments would close the channel (PRECONDITION_FAILED).
    declare_all(channel, ["delivery.high.p0", "delivery.low.p1", "push"])
    broker = RabbitmqBroker(url=broker_url, confirm_delivery=True)
    try:
        for name in ("delivery.high.p0", "delivery.normal.p1", "push"):
            broker.declare_queue(name, ensure=True)
        assert channel.is_open
    finally:
        broker.close()
        for queue in definitions(2)["queues"]:
            channel.queue_delete(queue["name"])
        connection.close()


def test_the_compose_stack_loads_the_definitions():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["rabbitmq"]["volumes"]
    assert "./rabbitmq/definitions.json:/etc/rabbitmq/definitions.json:ro" in volumes
    assert "definitions.local.path = /etc/rabbitmq/definitions.json" in (ROOT / "rabbitmq" / "rabbitmq.conf").read_text()
