"""The worker composition root: reads settings, installs the broker, and
builds the worker's ports (database sessions, publisher, realtime,
presence, policies) and its push sender on first use.

Importing this module installs the Dramatiq broker — the one thing allowed
to happen at import time — so it must be imported before any actor module.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import default_middleware
from dramatiq.middleware.retries import Retries

from config import Settings, load_settings
from db.engine import make_engine, make_session_factory, on_pool_use
from metrics.breakers import watch
from metrics.meter import PrometheusMeter
from metrics.pipeline import DB_POOL_IN_USE
from pipeline.contract import all_queues
from pipeline.retry import RetryPolicy
from rabbitmq.publisher import BrokerPublisher
from realtime import make_presence, make_realtime
from realtime.breaker_board import make_breaker_board
from telemetry import tracing
from usecases.outbox import make_marker
from usecases.messaging.push import PushSender
from usecases.ports import OutboxPolicy, Ports, PushPolicy, SessionFactory, WebhookPolicy
from workers.dead_letters import DeadLetters
from workers.job_context import JobContext
from workers.metrics import JobMetrics
from workers.push_sender import make_push_sender


@dataclass(frozen=True)
class WorkerRuntime:
    """What actors use: the use cases' ports, and this process's push sender."""

    ports: Ports
    push_sender: PushSender  # LoggingSender or FcmSender (one breaker per process), built at the first push


def make_broker(settings: Settings, policy: RetryPolicy) -> dramatiq.Broker:
    # JobContext first: the job's ids are bound before any other middleware runs and until all have.
    middleware = [JobContext(), *(m() for m in default_middleware if m is not Retries)]
    # Before Retries, so it counts a job's outcome once Retries has decided it.
    middleware.append(JobMetrics(settings.metrics_dir, settings.worker_metrics_port))
    middleware.append(Retries(max_retries=policy.max_retries, min_backoff=policy.min_backoff_ms,
                              max_backoff=policy.max_backoff_ms, retry_when=policy.should_retry))
    # After Retries, so its failure notes ride along when Retries re-enqueues.
    middleware.append(DeadLetters(lambda: runtime().ports.sessions))
    if settings.broker_url is None:
        broker = StubBroker(middleware=middleware)
    else:
        # confirm_delivery: without it a publish can be lost silently (dramatiq #832).
        broker = RabbitmqBroker(url=settings.broker_url, confirm_delivery=True, middleware=middleware)
    for queue_name in all_queues(settings.delivery_partitions):
        broker.declare_queue(queue_name)
    return broker


def worker_ports(settings: Settings, sessions: SessionFactory, realtime, presence=None) -> Ports:
    """The ports actors use; jobs they start go out through this process's broker."""
    publisher = BrokerPublisher(broker, make_marker(sessions, lambda: datetime.now(timezone.utc)))
    if getattr(realtime, "guard", None) is not None:
        watch(realtime.guard.breaker, "redis", _board(settings))
    return Ports(sessions=sessions, publisher=publisher, realtime=realtime,
                 presence=presence or make_presence(realtime, settings.redis_url, settings.redis_namespace),
                 outbox=OutboxPolicy(settings.delivery_partitions, settings.outbox_sweep_after_seconds),
                 push=PushPolicy(settings.push_enabled), meter=PrometheusMeter(),
                 webhooks=webhook_policy(settings))


def webhook_policy(settings: Settings) -> WebhookPolicy:
    return WebhookPolicy(settings.webhook_allow_http, settings.webhook_allow_private,
                         settings.webhook_timeout_seconds, settings.webhook_first_delay_seconds,
                         settings.webhook_max_delay_seconds, settings.webhook_window_seconds,
                         stall_seconds=settings.webhook_stall_seconds)


def _board(settings: Settings):
    """Where this process's breakers report their state changes (`herald status`)."""
    return make_breaker_board(settings.redis_url, settings.redis_namespace)


settings = load_settings()
# Each worker process traces on its own (Dramatiq forks before importing this).
tracing.configure(settings.otel_endpoint, settings.otel_service_name or "herald-worker", settings.otel_headers)
broker = make_broker(settings, RetryPolicy(settings.retry_max, settings.retry_min_backoff_ms,
                                           settings.retry_max_backoff_ms))
dramatiq.set_broker(broker)

_runtime: WorkerRuntime | None = None
_webhook_client = None
_push_sender = None
_lock = threading.Lock()


def install_ports(ports: Ports, push_sender=None) -> None:
    """Embedded mode and tests: share these ports (and a sender) with the actors."""
    global _runtime, _push_sender
    with _lock:
        _push_sender = push_sender or _push_sender
        _runtime = WorkerRuntime(ports, _push_sender or _LazySender())


def install_push_sender(sender) -> None:
    """Tests: use this sender instead of the one the settings describe (None: back to those)."""
    global _runtime, _push_sender
    with _lock:
        _push_sender = sender
        if _runtime is not None:
            _runtime = WorkerRuntime(_runtime.ports, sender or _LazySender())


def webhook_client():
    """This process's webhook client (one breaker per endpoint per process)."""
    global _webhook_client
    with _lock:
        if _webhook_client is None:
            from workers.webhook_http import RequestsWebhookClient
            _webhook_client = RequestsWebhookClient()
        return _webhook_client


def runtime() -> WorkerRuntime:
    """The worker's resources, built on first use (never at import time)."""
    global _runtime
    with _lock:
        if _runtime is None:
            engine = make_engine(settings.database_url)
            on_pool_use(engine, DB_POOL_IN_USE.inc, DB_POOL_IN_USE.dec)
            sessions = make_session_factory(engine)
            realtime = make_realtime(settings.redis_url, settings.redis_namespace)
            _runtime = WorkerRuntime(worker_ports(settings, sessions, realtime), _LazySender())
        return _runtime


class _LazySender:
    """The settings' push sender, built at the first push (FCM start-up is slow)."""

    def __init__(self):
        self._built = None
        self._lock = threading.Lock()

    def send(self, payload):
        return self._sender().send(payload)

    def close(self) -> None:
        if self._built is not None:
            self._built.close()

    def _sender(self):
        with self._lock:
            if self._built is None:
                self._built = make_push_sender(settings)
                if getattr(self._built, "breaker", None) is not None:
                    watch(self._built.breaker, "fcm", _board(settings))
            return self._built
