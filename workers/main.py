"""Entry point for `dramatiq workers.main`: installs the broker, then the
actors and the worker-side middleware."""

from telemetry.logs import configure_logging
from workers.broker import broker, settings
from workers import delivery, fan_out, push, webhooks  # noqa: F401  (registers actors)
from workers.maintenance import Maintenance

broker.add_middleware(Maintenance(settings.outbox_sweep_interval_seconds))

# Each worker process's log lines in Herald's format, into the pipe Dramatiq's parent reads.
configure_logging(settings.log_format, settings.log_level, embedded=settings.embedded)
