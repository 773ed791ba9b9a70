"""Actor and queue names: the wire contract between the edge and the workers.

Every actor pins `actor_name=` to one of these, so a rename of a Python
function cannot silently break messages already in the queues.
"""

from pipeline.routing import delivery_queue, delivery_queues, partition_for  # noqa: F401

DELIVER_MESSAGE = "deliver_message"
SEND_PUSH = "send_push"

PUSH_QUEUE = "push"
MAINTENANCE_QUEUE = "maintenance"
