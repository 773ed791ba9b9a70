"""The embedded launcher (`make run`): the edge, an in-process worker, an
in-process broker and pub/sub, SQLite — one process, no servers needed.

This is the one module that imports both `web` and `workers`: it is the
composition root of the embedded mode. gevent patches first, before
anything imports `socket`.
"""

from gevent import monkey

monkey.patch_all()

import errno  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402

import dramatiq  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

from cli.demo import ensure_demo  # noqa: E402
from config import load_settings  # noqa: E402
from db.engine import make_engine, make_session_factory, on_pool_use  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from metrics.pipeline import DB_POOL_IN_USE  # noqa: E402
from pipeline.contract import all_queues, delivery_queues  # noqa: E402
from rabbitmq.depths import StubDepths  # noqa: E402
from realtime import InProcessRealtime  # noqa: E402
from telemetry import tracing  # noqa: E402
from telemetry.logs import configure_logging  # noqa: E402
from web import create_app  # noqa: E402
from web.app import start_revocation_watch  # noqa: E402
from workers.broker import install_ports, worker_ports  # noqa: E402
from workers.main import broker  # noqa: E402

log = logging.getLogger("herald")


def run() -> int:
    settings = load_settings()
    # Text at a terminal, JSON otherwise (LOG_FORMAT overrides); one tracer for the edge and the worker.
    configure_logging(settings.log_format, settings.log_level, embedded=True)
    tracing.configure(settings.otel_endpoint, settings.otel_service_name or "herald", settings.otel_headers)
    listener = _listen(settings.host, settings.port)  # first: a taken port fails before anything starts
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    on_pool_use(engine, DB_POOL_IN_USE.inc, DB_POOL_IN_USE.dec)
    sessions = make_session_factory(engine)
    realtime = InProcessRealtime()
    # One set of ports for the edge and the in-process worker: the same
    # in-process pub/sub, presence and publisher (the stub broker).
    ports = worker_ports(settings, sessions, realtime)
    install_ports(ports)
    worker = dramatiq.Worker(broker, worker_threads=4)
    depths = StubDepths(broker, delivery_queues(settings.delivery_partitions), worker,
                        all_queues(settings.delivery_partitions))
    app = create_app(settings, publisher=ports.publisher, realtime=realtime, presence=ports.presence,
                     depths=depths)
    start_revocation_watch(app)
    worker.start()
    if settings.demo:
        ensure_demo(app, sessions, settings)
    server = WSGIServer(listener, app, log=None)
    signal.signal(signal.SIGTERM, lambda *_: server.stop(timeout=5))
    print(f"Herald (embedded) listening on http://{settings.host}:{settings.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
    return 0


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, or one line saying what to do when it cannot be had."""
    try:
        return socket.create_server((host, port), backlog=1024)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise SystemExit(f"herald: port {port} on {host} is already in use: stop what listens there, "
                             f"or choose another port (PORT={port + 1} make run)") from None
        raise SystemExit(f"herald: cannot listen on {host}:{port} ({e.strerror}): "
                         "choose another HOST or PORT") from None
