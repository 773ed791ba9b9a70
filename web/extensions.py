"""Extensions created unbound and bound in create_app (init_app)."""

from flask import Flask, Response, request
from flask_limiter import HeaderNames
from flask_limiter import Limiter as FlaskLimiter
from flask_sock import Sock

# flask-limiter writes Retry-After on every answer under a limit, 2xx
# included, and raises an answer's own Retry-After (a 503's) to its window's
# reset. It writes under this name instead; `_retry_after_on_429` keeps the
# value for 429s only.
LIMITER_RETRY_AFTER = "X-Herald-Limiter-Retry-After"


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _retry_after_on_429(response: Response) -> Response:
    retry_after = response.headers.pop(LIMITER_RETRY_AFTER, None)
    if response.status_code == 429 and retry_after is not None and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(max(1, int(retry_after)))
    return response


class Limiter(FlaskLimiter):
    """flask-limiter with X-RateLimit-* on every answer and Retry-After only on 429."""

    def init_app(self, app: Flask) -> None:
        # after_request hooks run in reverse order: registered before the
        # limiter's own, this one sees the headers the limiter wrote.
        app.after_request(_retry_after_on_429)
        super().init_app(app)


sock = Sock()
limiter = Limiter(key_func=_client_address, headers_enabled=True,
                  header_name_mapping={HeaderNames.RETRY_AFTER: LIMITER_RETRY_AFTER})
