"""Sign-in: texted codes for mobile numbers, passwords for business and
admin users, and rotating refresh tokens."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, StringConstraints

from pipeline.errors import InvalidPhoneNumber
from pipeline.phones import normalize_phone
from usecases.accounts import logins
from usecases.accounts.logins import SignedInSession
from usecases.operations.audit import Actor
from web.auth.tokens import issue_access_token
from web.extensions import limiter
from web.requests import parse
from web.resources import resources

bp = Blueprint("auth", __name__, url_prefix="/v1/auth")

# Texts cost money and annoy their recipient: a number gets few codes.
CODES_PER_PHONE = "5/minute;20/hour"
# Each code dies after a few wrong guesses; this only slows a spray across codes.
GUESSES_PER_PHONE = "10/minute"
LOGINS_PER_USERNAME = "10/minute;100/hour"
PER_ADDRESS = "30/minute;300/hour"

Phone = Annotated[str, StringConstraints(min_length=2, max_length=32)]


class RequestOtp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Phone


class VerifyOtp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Phone
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class Refresh(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)]


def _body_field(name: str) -> str:
    body = request.get_json(silent=True)
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else ""


def _phone(raw: str) -> str:
    """E.164, reading a national number as the deployment's default region's."""
    return normalize_phone(raw, resources().ports.phones.default_region)


def _phone_key() -> str:
    """The normalized number, so every spelling of one number shares its budget."""
    raw = _body_field("phone")
    try:
        return "phone:" + _phone(raw)
    except InvalidPhoneNumber:
        return "phone:" + raw[:32]


def _username_key() -> str:
    return "username:" + _body_field("username")[:64]


@bp.post("/otp")
@limiter.limit(CODES_PER_PHONE, key_func=_phone_key)
@limiter.limit(PER_ADDRESS)
def request_otp():
    """Text a sign-in code to a mobile number; 202 once it is on its way."""
    command, _ = parse(RequestOtp)
    res = resources()
    logins.send_sign_in_code(res.ports, res.sign_in, res.sms, _phone(command.phone))
    return {"expires_in": res.sign_in.otp_ttl_seconds}, 202


@bp.post("/otp/verify")
@limiter.limit(GUESSES_PER_PHONE, key_func=_phone_key)
@limiter.limit(PER_ADDRESS)
def verify_otp():
    """Trade a texted code for a token pair, creating or activating the number's account."""
    command, _ = parse(VerifyOtp)
    res = resources()
    return _token_response(logins.sign_in_with_code(res.ports, res.sign_in, _phone(command.phone),
                                                    command.code, _door()))


@bp.post("/login")
@limiter.limit(LOGINS_PER_USERNAME, key_func=_username_key)
@limiter.limit(PER_ADDRESS)
def login():
    """Trade a business or admin user's username and password for a token pair."""
    command, _ = parse(Login)
    res = resources()
    return _token_response(logins.sign_in_with_password(res.ports, res.sign_in, command.username, command.password,
                                                        _door()))


@bp.post("/refresh")
@limiter.limit(PER_ADDRESS)
def refresh():
    """Trade a refresh token for the next token pair of its session."""
    command, _ = parse(Refresh)
    res = resources()
    return _token_response(logins.continue_session(res.ports, res.sign_in, command.refresh_token))


def _door() -> Actor:
    """Where a sign-in came from, for its audit entry."""
    return Actor(None, "api", request.remote_addr)


def _token_response(session: SignedInSession):
    """The session's refresh token with a fresh access token."""
    tokens, account = resources().tokens, session.account
    answer = {"access_token": issue_access_token(tokens, user_id=account.id, role=account.role,
                                                  generation=account.generation),
              "token_type": "Bearer", "expires_in": tokens.ttl_seconds,
              "refresh_token": session.refresh_token,
              "user": {"id": account.id, "role": account.role, "phone": account.phone, "name": account.name}}
    # RFC 6749 §5.1: responses carrying tokens must not be cached.
    return answer, 200, {"Cache-Control": "no-store"}
