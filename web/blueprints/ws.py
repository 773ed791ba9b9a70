"""The WebSocket endpoint and its one-time tickets for browsers.

Origin and identity are checked before the upgrade: flask-sock itself
accepts every handshake.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import Blueprint, g, request

from usecases.accounts.tickets import issue_ticket, redeem_ticket
from usecases.messaging.stream_reading import stream_end
from pipeline.errors import BadRequest, Forbidden, InvalidToken, OriginNotAllowed
from web.auth.identity import authenticate, bearer_token, caller, requires
from web.extensions import sock
from web.request_log import socket_closed, socket_opened
from web.resources import resources
from web.ws.connection import Connection

bp = Blueprint("ws", __name__)
SOCKET_ROLES = ("mobile",)


@bp.post("/v1/ws/ticket")
@requires(*SOCKET_ROLES)
def create_ticket():
    """A one-time ticket for `GET /v1/ws?ticket=…`, valid a few seconds."""
    if caller().context:
        raise Forbidden("a token scoped to one conversation connects with its bearer header")
    res = resources()
    ticket = issue_ticket(res.ports, caller().user_id, datetime.now(timezone.utc), res.sockets.ticket_ttl_seconds)
    return {"ticket": ticket, "expires_in": res.sockets.ticket_ttl_seconds}, 201


@bp.before_request
def guard_socket():
    if request.endpoint != "ws.socket":
        return None
    _check_origin()
    user_id, context, generation = _socket_user()
    # No permessage-deflate (D70): simple_websocket accepts it whenever a
    # client offers it, and each socket's zlib state then costs ~90 KiB,
    # and every frame is compressed again for every socket. The handshake
    # reads the offer from the environ: without it, none is accepted.
    request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
    # A client cannot skip ahead: `since` past the stream's end means "from the end".
    g.socket = (user_id, min(_since(), stream_end(resources().ports, user_id)), context, generation)
    return None


@sock.route("/v1/ws", bp=bp)
def socket(ws):
    user_id, since, context, generation = g.socket
    socket_opened(user_id)
    try:
        Connection(ws, user_id, since, resources(), context, generation).run()
    finally:
        socket_closed()


def _check_origin() -> None:
    origin = request.headers.get("Origin")
    if origin is None:
        return  # native clients send no Origin; browsers always do
    allowed = set(resources().sockets.allowed_origins)
    same_host = urlsplit(origin).netloc == request.host
    if not same_host and origin not in allowed:
        raise OriginNotAllowed(f"origin {origin} may not open sockets here")


def _socket_user() -> tuple[int, int | None, int]:
    """The socket's user, for a token scoped to one conversation its id, and
    the token generation a later revocation is compared with (D60)."""
    if bearer_token() is not None:
        claims = authenticate()
        if claims.role not in SOCKET_ROLES:
            raise Forbidden("sockets are for mobile users")
        return claims.user_id, int(claims.context) if claims.context else None, claims.generation
    ticket = request.args.get("ticket")
    if not ticket:
        raise InvalidToken("send a bearer token or a ticket from POST /v1/ws/ticket")
    redeemed = redeem_ticket(resources().ports, ticket, datetime.now(timezone.utc))
    if redeemed is None:
        raise InvalidToken("the ticket is unknown, spent or expired")
    user_id, generation = redeemed
    return user_id, None, generation


def _since() -> int:
    raw = request.args.get("since", "0")
    if not raw.isdigit():
        raise BadRequest("since must be a non-negative integer position")
    return int(raw)
