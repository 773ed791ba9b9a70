"""Entry point for `dramatiq workers.main`: installs the broker, then the
actors and the worker-side middleware."""

from workers.broker import broker, settings
from workers import delivery  # noqa: F401  (registers actors)
from workers.maintenance import OutboxSweeper

broker.add_middleware(OutboxSweeper(settings.outbox_sweep_interval_seconds))
