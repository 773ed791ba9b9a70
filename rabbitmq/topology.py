"""Queue declarations that match what Dramatiq's RabbitmqBroker declares.

RabbitMQ refuses a redeclaration with different arguments
(PRECONDITION_FAILED), so the edge's publisher declares exactly the same
queue, delay queue (.DQ) and dead-letter queue (.XQ) as the workers do.
"""

from __future__ import annotations

from dramatiq.brokers.rabbitmq import DEAD_MESSAGE_TTL
from dramatiq.common import dq_name, xq_name


def queue_arguments(queue_name: str) -> dict:
    return {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": xq_name(queue_name)}


def declare_queue(channel, queue_name: str) -> None:
    """Declare a work queue with its delay and dead-letter queues (durable)."""
    arguments = queue_arguments(queue_name)
    channel.queue_declare(queue=queue_name, durable=True, arguments=arguments)
    channel.queue_declare(queue=dq_name(queue_name), durable=True, arguments=arguments)
    channel.queue_declare(queue=xq_name(queue_name), durable=True,
                          arguments={"x-message-ttl": DEAD_MESSAGE_TTL})


def declare_all(channel, queue_names: list[str]) -> None:
    for name in queue_names:
        declare_queue(channel, name)
