"""Actor and queue names the edge and the workers share (defined, as pure
values, in pipeline.jobs and pipeline.routing)."""

from pipeline.jobs import DELIVER_MESSAGE, MAINTENANCE_QUEUE, PUSH_QUEUE
from pipeline.routing import delivery_queue, delivery_queues, partition_for

__all__ = ["DELIVER_MESSAGE", "MAINTENANCE_QUEUE", "PUSH_QUEUE", "delivery_queue", "delivery_queues",
           "partition_for"]
