"""Extensions created unbound and bound in create_app (init_app)."""

from flask import request
from flask_limiter import Limiter
from flask_sock import Sock


def _client_address() -> str:
    return request.remote_addr or "unknown"


sock = Sock()
limiter = Limiter(key_func=_client_address, headers_enabled=True)
