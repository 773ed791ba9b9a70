"""The worker composition root: reads settings, installs the broker, and
builds the runtime (database sessions, realtime) on first use.

Importing this module installs the Dramatiq broker — the one thing allowed
to happen at import time — so it must be imported before any actor module.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import default_middleware
from dramatiq.middleware.retries import Retries
from sqlalchemy.orm import Session, sessionmaker

from config import Settings, load_settings
from db.engine import make_engine, make_session_factory
from pipeline.retry import RetryPolicy
from pipeline.routing import delivery_queues
from rabbitmq.contract import MAINTENANCE_QUEUE, PUSH_QUEUE
from realtime import Realtime, make_realtime
from workers.dead_letters import DeadLetters


@dataclass
class Runtime:
    settings: Settings
    sessions: sessionmaker[Session]
    realtime: Realtime


def make_broker(settings: Settings, policy: RetryPolicy) -> dramatiq.Broker:
    middleware = [m() for m in default_middleware if m is not Retries]
    middleware.append(Retries(max_retries=policy.max_retries, min_backoff=policy.min_backoff_ms,
                              max_backoff=policy.max_backoff_ms, retry_when=policy.should_retry))
    # After Retries, so its failure notes ride along when Retries re-enqueues.
    middleware.append(DeadLetters(lambda: runtime().sessions))
    if settings.broker_url is None:
        broker = StubBroker(middleware=middleware)
    else:
        # confirm_delivery: without it a publish can be lost silently (dramatiq #832).
        broker = RabbitmqBroker(url=settings.broker_url, confirm_delivery=True, middleware=middleware)
    for queue_name in all_queues(settings):
        broker.declare_queue(queue_name)
    return broker


def all_queues(settings: Settings) -> list[str]:
    return delivery_queues(settings.delivery_partitions) + [PUSH_QUEUE, MAINTENANCE_QUEUE]


settings = load_settings()
broker = make_broker(settings, RetryPolicy(settings.retry_max, settings.retry_min_backoff_ms,
                                           settings.retry_max_backoff_ms))
dramatiq.set_broker(broker)

_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def install_runtime(runtime_: Runtime) -> None:
    """Embedded mode: share the edge's realtime object with the actors."""
    global _runtime
    _runtime = runtime_


def runtime() -> Runtime:
    """The worker's resources, built on first use (never at import time)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            engine = make_engine(settings.database_url)
            _runtime = Runtime(settings, make_session_factory(engine), make_realtime(settings.redis_url, settings.redis_namespace))
        return _runtime
