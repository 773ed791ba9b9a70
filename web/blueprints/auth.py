"""Sign-in: texted codes for mobile numbers, passwords for business and
admin users, and rotating refresh tokens."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, StringConstraints

from usecases.accounts.otp import consume_otp, issue_otp
from usecases.accounts.sign_in import SignedIn, open_session, refresh_session, sign_in_mobile, user_by_username
from db.engine import UnitOfWork
from pipeline.errors import HeraldError, InvalidPhoneNumber
from pipeline.phones import normalize_phone
from web.auth.passwords import check_password_login
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


def _phone_key() -> str:
    """The normalized number, so every spelling of one number shares its budget."""
    raw = _body_field("phone")
    try:
        return "phone:" + normalize_phone(raw)
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
    phone, settings = normalize_phone(command.phone), resources().settings
    with UnitOfWork(resources().sessions) as uow:
        code = issue_otp(uow.session, phone, now=_now(), ttl_seconds=settings.otp_ttl_seconds,
                         pepper=settings.jwt_secret)
        uow.commit()
    resources().sms.send_code(phone, code)
    return {"expires_in": settings.otp_ttl_seconds}, 202


@bp.post("/otp/verify")
@limiter.limit(GUESSES_PER_PHONE, key_func=_phone_key)
@limiter.limit(PER_ADDRESS)
def verify_otp():
    """Trade a texted code for a token pair, creating or activating the number's account."""
    command, _ = parse(VerifyOtp)
    phone, now, settings = normalize_phone(command.phone), _now(), resources().settings
    with UnitOfWork(resources().sessions) as uow:
        outcome = consume_otp(uow.session, phone, command.code, now=now, pepper=settings.jwt_secret,
                              max_attempts=settings.otp_max_attempts)
        if outcome is None:
            outcome = sign_in_mobile(uow.session, phone, now=now, ttl_seconds=settings.refresh_token_ttl_seconds)
        uow.commit()  # a wrong guess must count even though it is refused
    return _token_response(outcome)


@bp.post("/login")
@limiter.limit(LOGINS_PER_USERNAME, key_func=_username_key)
@limiter.limit(PER_ADDRESS)
def login():
    """Trade a business or admin user's username and password for a token pair."""
    command, _ = parse(Login)
    with UnitOfWork(resources().sessions) as uow:
        user = check_password_login(user_by_username(uow.session, command.username), command.password)
        signed_in = open_session(uow.session, user, now=_now(),
                                 ttl_seconds=resources().settings.refresh_token_ttl_seconds)
        uow.commit()
    return _token_response(signed_in)


@bp.post("/refresh")
@limiter.limit(PER_ADDRESS)
def refresh():
    """Trade a refresh token for the next token pair of its session."""
    command, _ = parse(Refresh)
    with UnitOfWork(resources().sessions) as uow:
        outcome = refresh_session(uow.session, command.refresh_token, now=_now(),
                                  ttl_seconds=resources().settings.refresh_token_ttl_seconds)
        uow.commit()  # a replayed token's family stays revoked though the request is refused
    return _token_response(outcome)


def _token_response(outcome: SignedIn | HeraldError):
    """The token pair of a session, or the refusal its action decided on, raised."""
    if isinstance(outcome, HeraldError):
        raise outcome
    tokens, user = resources().tokens, outcome.user
    answer = {"access_token": issue_access_token(tokens, user_id=user.id, role=user.role),
              "token_type": "Bearer", "expires_in": tokens.ttl_seconds,
              "refresh_token": outcome.refresh_token,
              "user": {"id": user.id, "role": user.role, "phone": user.phone, "name": user.name}}
    # RFC 6749 §5.1: responses carrying tokens must not be cached.
    return answer, 200, {"Cache-Control": "no-store"}


def _now() -> datetime:
    return datetime.now(timezone.utc)
