"""Who is calling: a bearer token checked before any view runs."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import wraps

from flask import g, request

from pipeline.api_keys import looks_like_api_key
from pipeline.errors import AccountDisabled, Forbidden, InvalidToken, Unauthenticated
from telemetry import context
from usecases.accounts.api_keys import authenticate_key
from web.auth.tokens import Claims, verify_access_token
from web.resources import resources


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def bearer_claims() -> Claims | None:
    """The claims of the request's bearer token or API key (checked once per request), None without one.

    Raises:
        InvalidToken: a token that does not verify, or one revoked since it
            was signed (checked on every request, cached claims included: D60),
            or a key that is unknown or revoked.
    """
    if "bearer_claims" not in g:
        token = bearer_token()
        g.bearer_claims = None if token is None else _claims_of(token)
        if g.bearer_claims is not None:
            context.bind(user_id=g.bearer_claims.user_id)  # on this request's log lines from here on
    return g.bearer_claims


def _claims_of(token: str) -> Claims:
    if looks_like_api_key(token):
        holder = authenticate_key(resources().ports, token, datetime.now(timezone.utc))
        if resources().revocations.disabled(holder.user_id):  # the key may be cached from before (D85)
            raise AccountDisabled("the API key's account is disabled")
        return Claims(user_id=holder.user_id, role=holder.role, api_key_id=holder.key_id)
    return _unrevoked(verify_access_token(resources().tokens, token))


def _unrevoked(claims: Claims) -> Claims:
    if resources().revocations.refuses(claims.user_id, claims.generation):
        raise InvalidToken("the token was revoked; refresh it or sign in again")
    return claims


def authenticate() -> Claims:
    """The caller's claims, from the Authorization header.

    Raises:
        Unauthenticated: no bearer token.
        InvalidToken: a token that does not verify.
    """
    claims = bearer_claims()
    if claims is None:
        raise Unauthenticated("send 'Authorization: Bearer <token>'")
    g.claims = claims
    return claims


def requires(*roles: str):
    """Allow the view only to authenticated callers with one of `roles`."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            claims = authenticate()
            if roles and claims.role not in roles:
                raise Forbidden(f"this endpoint is for {' or '.join(roles)} users")
            return view(*args, **kwargs)
        return wrapper
    return decorator


def caller() -> Claims:
    return g.claims
