"""gunicorn settings for the edge (`gunicorn -c gunicorn.conf.py web.wsgi:app`).

Kept free of Herald imports at module level: gunicorn reads this file in
the master before the gevent worker patches anything. It reads no
environment itself: gunicorn already takes `PORT` (bind 0.0.0.0:$PORT),
`WEB_CONCURRENCY` (worker processes) and `GUNICORN_CMD_ARGS` (anything else).
"""

worker_class = "gevent"
# In-flight requests get this long to finish after SIGTERM.
graceful_timeout = 30
# One gevent worker holds thousands of sockets.
worker_connections = 10000


def post_worker_init(worker):
    """On SIGTERM, close every WebSocket with 1012 so clients reconnect elsewhere;
    hear token revocations from now on (docs/decisions.md D60)."""
    from web.app import start_revocation_watch
    from web.shutdown import close_sockets_on_exit

    close_sockets_on_exit(worker)
    start_revocation_watch(worker.wsgi)
