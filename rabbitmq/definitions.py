"""Server-side definitions (the JSON RabbitMQ imports at boot), generated
from the same topology code the edge and the workers declare with.

Durable classic queues: for every work queue its delay queue (.DQ) and
dead-letter queue (.XQ), with exactly Dramatiq's arguments, so a node
that boots with them accepts the applications' own declarations.
"""

from __future__ import annotations

import base64
import hashlib
import json

from dramatiq.common import dq_name, xq_name
from dramatiq.brokers.rabbitmq import DEAD_MESSAGE_TTL

from pipeline.contract import all_queues
from rabbitmq.topology import queue_arguments

VHOST = "/"
# A fixed salt keeps the generated file stable; it only hashes the compose
# default password, which production replaces.
_SALT = b"hrld"


def password_hash(password: str) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256 format."""
    return base64.b64encode(_SALT + hashlib.sha256(_SALT + password.encode()).digest()).decode()


def work_queues(partitions: int) -> list[str]:
    return all_queues(partitions)


def _queue(name: str, arguments: dict) -> dict:
    return {"name": name, "vhost": VHOST, "durable": True, "auto_delete": False, "arguments": arguments}


def definitions(partitions: int, user: str = "guest", password: str = "guest") -> dict:
    queues = []
    for name in work_queues(partitions):
        queues.append(_queue(name, queue_arguments(name)))
        queues.append(_queue(dq_name(name), queue_arguments(name)))
        queues.append(_queue(xq_name(name), {"x-message-ttl": DEAD_MESSAGE_TTL}))
    return {
        "users": [{"name": user, "password_hash": password_hash(password),
                   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]}],
        "vhosts": [{"name": VHOST}],
        "permissions": [{"user": user, "vhost": VHOST, "configure": ".*", "write": ".*", "read": ".*"}],
        "queues": queues,
        "exchanges": [],
        "bindings": [],
        "policies": [],
    }


def render(partitions: int) -> str:
    return json.dumps(definitions(partitions), indent=2) + "\n"
