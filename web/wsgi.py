"""The WSGI entry point for gunicorn (`web.wsgi:app`).

Run it with the gevent worker (`gunicorn -k gevent`), which monkey-patches
the process before this module is imported.
"""

from web import create_app

app = create_app()
