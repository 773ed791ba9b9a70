"""Graceful shutdown of an edge process under gunicorn.

gunicorn's SIGTERM stops accepting connections and lets in-flight requests
finish; WebSockets would otherwise stay open until the graceful timeout
kills them. We close each with 1012 ("service restart") at once, so clients
reconnect to another process with their last acknowledged position.
"""

from __future__ import annotations

import signal

CLOSE_RESTARTING = 1012


def close_sockets_on_exit(worker) -> None:
    """Install a SIGTERM handler that closes the sockets, then runs gunicorn's own."""
    hub = worker.wsgi.extensions["herald"].hub
    gunicorn_handler = worker.handle_exit

    def handle_exit(signum, frame):
        hub.close_all(CLOSE_RESTARTING, "server restarting")
        gunicorn_handler(signum, frame)

    signal.signal(signal.SIGTERM, handle_exit)
