"""gunicorn settings for the edge (`gunicorn -c gunicorn.conf.py web.wsgi:app`).

Kept free of Herald imports at module level: gunicorn reads this file in
the master before the gevent worker patches anything.
"""

import os

worker_class = "gevent"
workers = int(os.environ.get("WEB_PROCESSES", "2"))
bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8080')}"
# In-flight requests get this long to finish after SIGTERM.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
# One gevent worker holds thousands of sockets.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "10000"))


def post_worker_init(worker):
    """On SIGTERM, close every WebSocket with 1012 so clients reconnect elsewhere."""
    from web.shutdown import close_sockets_on_exit

    close_sockets_on_exit(worker)
