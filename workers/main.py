"""Entry point for `dramatiq workers.main`: installs the broker, then the
actors and the worker-side middleware."""

from workers.broker import broker, settings
from workers import delivery, fan_out, push, webhooks  # noqa: F401  (registers actors)
from workers.maintenance import Maintenance

broker.add_middleware(Maintenance(settings.outbox_sweep_interval_seconds))
