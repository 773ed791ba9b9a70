"""gunicorn settings for the edge (`gunicorn -c gunicorn.conf.py web.wsgi:app`).

Kept free of Herald imports at module level: gunicorn reads this file in
the master before the gevent worker patches anything. It reads no
environment itself: gunicorn already takes `PORT` (bind 0.0.0.0:$PORT),
`WEB_CONCURRENCY` (worker processes) and `GUNICORN_CMD_ARGS` (anything else).
"""

from gunicorn.glogging import Logger

worker_class = "gevent"
# In-flight requests get this long to finish after SIGTERM.
graceful_timeout = 30
# One gevent worker holds thousands of sockets.
worker_connections = 10000


class HeraldLogger(Logger):
    """gunicorn's own lines (boot, workers, errors) in Herald's log format:
    they go to the root logger, which `telemetry.logs` sets up once for the
    master and the workers it forks. Requests are logged by the app
    (web/request_log.py), so there is no access log."""

    def setup(self, cfg):
        super().setup(cfg)
        from config import load_settings
        from telemetry.logs import configure_logging

        settings = load_settings()
        configure_logging(settings.log_format, settings.log_level, embedded=False)
        for handler in list(self.error_log.handlers):
            if getattr(handler, "_gunicorn", False):
                self.error_log.removeHandler(handler)
        self.error_log.propagate = True


logger_class = HeraldLogger


def on_starting(server):
    """Metrics: start with an empty PROMETHEUS_MULTIPROC_DIR (an earlier run's files would be summed in)."""
    from config import load_settings
    from metrics.exposition import clear_directory

    clear_directory(load_settings().metrics_dir)


def child_exit(server, worker):
    """Metrics: a worker that ended no longer counts in the live gauges (sockets open, pool in use)."""
    from config import load_settings
    from metrics.exposition import mark_process_dead

    mark_process_dead(load_settings().metrics_dir, worker.pid)


def post_worker_init(worker):
    """On SIGTERM, close every WebSocket with 1012 so clients reconnect elsewhere;
    hear token revocations from now on (docs/decisions.md D60)."""
    from web.app import start_revocation_watch
    from web.shutdown import close_sockets_on_exit

    close_sockets_on_exit(worker)
    start_revocation_watch(worker.wsgi)
