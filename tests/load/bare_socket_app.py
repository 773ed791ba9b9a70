"""The baseline of the sockets bench: a bare flask-sock app under the same
gunicorn gevent worker, with flask-sock's defaults. Each socket gets one
small frame on connect (as Herald's `ready`) and then waits for the client.

    gunicorn -c gunicorn.conf.py -w 1 tests.load.bare_socket_app:app
"""

from flask import Flask
from flask_sock import Sock

app = Flask(__name__)
sock = Sock(app)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@sock.route("/v1/ws")
def idle(ws):
    ws.send('{"type":"ready","position":0,"protocol":1}')
    while ws.receive() is not None:
        pass
