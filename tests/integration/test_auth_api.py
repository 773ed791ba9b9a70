"""Signing in on the real PostgreSQL: texted codes, passwords, rotating
refresh tokens, and the refusals of every bad credential."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from sqlalchemy import func, select, update

from config import load_settings
from usecases.accounts.users import mobile_user_for_phone
from db.engine import UnitOfWork
from db.models import Message, OtpCode, RefreshToken, User
from web import create_app
from usecases.accounts.passwords import hash_password
from web.auth.tokens import issue_access_token

PHONE = "+66812345678"


def request_code(client, caplog, phone=PHONE) -> str:
    """Ask for a code and read it from the log sender's line, as e2e tests do."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="herald.sms"):
        response = client.post("/v1/auth/otp", json={"phone": phone})
    assert response.status_code == 202
    assert response.get_json() == {"expires_in": 300}
    prefix = f"OTP for {phone}: "
    lines = [r.getMessage() for r in caplog.records if r.name == "herald.sms"]
    assert len(lines) == 1 and lines[0].startswith(prefix)
    return lines[0][len(prefix):]


def verify(client, code, phone=PHONE):
    return client.post("/v1/auth/otp/verify", json={"phone": phone, "code": code})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def login(client, username="acme", password="s3cret-passw0rd"):
    return client.post("/v1/auth/login", json={"username": username, "password": password})


def refresh(client, token):
    return client.post("/v1/auth/refresh", json={"refresh_token": token})


def assert_problem(response, status, code):
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == code


def count(sessions, model, *where) -> int:
    with UnitOfWork(sessions) as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def otp_row(sessions, phone=PHONE) -> OtpCode:
    with UnitOfWork(sessions) as uow:
        return uow.session.scalars(select(OtpCode).where(OtpCode.phone == phone)
                                   .order_by(OtpCode.id.desc())).first()


def user_of(sessions, phone=PHONE) -> User | None:
    with UnitOfWork(sessions) as uow:
        return uow.session.scalars(select(User).where(User.phone == phone)).one_or_none()


@pytest.fixture
def acme(auth):
    return auth.user("business", username="acme", name="Acme",
                     password_hash=hash_password("s3cret-passw0rd"))


# --- one-time codes -----------------------------------------------------------

def test_a_texted_code_signs_a_new_number_in_with_a_token_pair(client, caplog, sessions):
    code = request_code(client, caplog)
    response = verify(client, code)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    user = user_of(sessions)
    assert user.role == "mobile" and user.activated_at is not None
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["user"] == {"id": user.id, "role": "mobile", "phone": PHONE, "name": None}
    assert body["refresh_token"]
    ticket = client.post("/v1/ws/ticket", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert ticket.status_code == 201


def test_only_a_keyed_hash_of_the_code_is_stored(client, caplog, sessions):
    code = request_code(client, caplog)
    row = otp_row(sessions)
    assert len(row.code_hash) == 64 and code not in row.code_hash
    assert row.expires_at - row.created_at == timedelta(seconds=300)


def test_the_code_activates_the_placeholder_account_of_a_number_messaged_before_signup(
        client, caplog, sessions):
    with UnitOfWork(sessions) as uow:
        placeholder = mobile_user_for_phone(uow.session, PHONE, datetime.now(timezone.utc))
        uow.commit()
    assert placeholder.activated_at is None
    response = verify(client, request_code(client, caplog))
    assert response.status_code == 200
    assert response.get_json()["user"]["id"] == placeholder.id
    assert user_of(sessions).activated_at is not None
    assert count(sessions, User) == 1


def test_a_number_in_another_spelling_is_normalized(client, caplog, sessions):
    code = request_code(client, caplog)
    assert verify(client, code, phone="+66 81 234 5678").status_code == 200


def test_an_invalid_phone_number_is_refused_and_no_code_is_made(client, sessions):
    assert_problem(client.post("/v1/auth/otp", json={"phone": "+1 555"}), 422, "invalid_phone_number")
    assert_problem(client.post("/v1/auth/otp", json={"phone": "0812345678"}), 422, "invalid_phone_number")
    assert count(sessions, OtpCode) == 0


def test_a_wrong_code_is_refused_and_counted_without_signing_in(client, caplog, sessions):
    code = request_code(client, caplog)
    assert_problem(verify(client, wrong(code)), 401, "invalid_otp")
    row = otp_row(sessions)
    assert row.attempts == 1 and row.consumed_at is None
    assert user_of(sessions) is None and count(sessions, RefreshToken) == 0
    assert verify(client, code).status_code == 200


def test_a_code_dies_after_five_wrong_attempts_even_for_the_right_code(client, caplog, sessions):
    code = request_code(client, caplog)
    for _ in range(5):
        assert_problem(verify(client, wrong(code)), 401, "invalid_otp")
    assert_problem(verify(client, code), 429, "too_many_attempts")
    assert_problem(verify(client, code), 429, "too_many_attempts")
    assert otp_row(sessions).attempts == 5
    assert user_of(sessions) is None and count(sessions, RefreshToken) == 0


def test_an_expired_code_is_refused(client, caplog, sessions):
    code = request_code(client, caplog)
    with UnitOfWork(sessions) as uow:
        uow.session.execute(update(OtpCode).values(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
        uow.commit()
    assert_problem(verify(client, code), 401, "invalid_otp")
    assert otp_row(sessions).consumed_at is None
    assert user_of(sessions) is None and count(sessions, RefreshToken) == 0


def test_a_consumed_code_cannot_be_used_again(client, caplog, sessions):
    code = request_code(client, caplog)
    assert verify(client, code).status_code == 200
    assert_problem(verify(client, code), 401, "invalid_otp")
    assert count(sessions, RefreshToken) == 1


def test_a_new_code_replaces_the_previous_one(client, caplog, sessions):
    request_code(client, caplog)
    second = request_code(client, caplog)
    now = datetime.now(timezone.utc)
    assert count(sessions, OtpCode, OtpCode.expires_at > now) == 1
    assert verify(client, second).status_code == 200


def test_a_business_number_cannot_sign_in_by_code(client, caplog, sessions, auth):
    auth.user("business", phone=PHONE, username="shop")
    assert_problem(verify(client, request_code(client, caplog)), 401, "invalid_otp")
    assert count(sessions, RefreshToken) == 0 and count(sessions, User) == 1


def test_a_code_for_a_number_that_never_asked_is_refused(client, sessions):
    assert_problem(verify(client, "123456"), 401, "invalid_otp")
    assert user_of(sessions) is None


@pytest.mark.parametrize("path, body", [
    ("/v1/auth/otp", {"phone": PHONE, "admin": True}),
    ("/v1/auth/otp", {}),
    ("/v1/auth/otp", {"phone": 66812345678}),
    ("/v1/auth/otp/verify", {"phone": PHONE, "code": "12345"}),
    ("/v1/auth/otp/verify", {"phone": PHONE, "code": 123456}),
    ("/v1/auth/login", {"username": "acme"}),
    ("/v1/auth/refresh", {"refresh_token": "x", "user_id": 1}),
    ("/v1/auth/refresh", ["x"]),
])
def test_a_malformed_body_is_refused_with_validation_failed(client, sessions, path, body):
    assert_problem(client.post(path, json=body), 422, "validation_failed")
    assert count(sessions, OtpCode) == 0 and count(sessions, RefreshToken) == 0


def test_a_body_that_is_not_json_is_refused(client, sessions):
    response = client.post("/v1/auth/otp", data=f"phone={PHONE}",
                           content_type="application/x-www-form-urlencoded")
    assert_problem(response, 415, "unsupported_media_type")
    assert_problem(client.post("/v1/auth/otp", data="{", content_type="application/json"), 400, "bad_request")
    assert count(sessions, OtpCode) == 0


# --- passwords ----------------------------------------------------------------

@pytest.mark.parametrize("role", ["business", "admin"])
def test_a_business_or_admin_user_logs_in_with_a_password(client, auth, sessions, role):
    user = auth.user(role, username="acme", name="Acme", password_hash=hash_password("s3cret-passw0rd"))
    response = login(client)
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"] == {"id": user.id, "role": role, "phone": None, "name": "Acme"}
    assert body["token_type"] == "Bearer"
    with UnitOfWork(sessions) as uow:
        stored = uow.session.scalars(select(RefreshToken)).one()
    assert stored.user_id == user.id and stored.token_hash != body["refresh_token"]
    status = client.get("/v1/messages/1", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert_problem(status, 404, "not_found")


def test_a_wrong_password_is_refused(client, acme, sessions):
    assert_problem(login(client, password="guess"), 401, "invalid_credentials")
    assert count(sessions, RefreshToken) == 0


def test_an_unknown_username_is_refused_like_a_wrong_password(client, acme, sessions):
    assert_problem(login(client, username="nobody"), 401, "invalid_credentials")
    assert count(sessions, RefreshToken) == 0


def test_a_mobile_user_cannot_log_in_with_a_password(client, auth, sessions):
    auth.user("mobile", username="somchai", password_hash=hash_password("pw-of-a-mobile-user"))
    assert_problem(login(client, username="somchai", password="pw-of-a-mobile-user"), 401,
                   "invalid_credentials")
    assert count(sessions, RefreshToken) == 0


# --- refresh tokens -----------------------------------------------------------

def test_a_refresh_token_is_traded_for_the_next_pair_of_its_family(client, acme, sessions):
    first = login(client).get_json()["refresh_token"]
    response = refresh(client, first)
    assert response.status_code == 200
    second = response.get_json()
    assert second["refresh_token"] != first and second["user"]["id"] == acme.id
    with UnitOfWork(sessions) as uow:
        tokens = uow.session.scalars(select(RefreshToken).order_by(RefreshToken.id)).all()
    assert len(tokens) == 2 and tokens[0].family == tokens[1].family
    assert tokens[0].used_at is not None and tokens[1].used_at is None
    assert refresh(client, second["refresh_token"]).status_code == 200


def test_a_reused_refresh_token_revokes_its_whole_family(client, acme, sessions):
    stolen = login(client).get_json()["refresh_token"]
    other_session = login(client).get_json()["refresh_token"]
    rotated = refresh(client, stolen).get_json()["refresh_token"]
    assert_problem(refresh(client, stolen), 401, "invalid_token")
    assert_problem(refresh(client, rotated), 401, "invalid_token")
    with UnitOfWork(sessions) as uow:
        family = uow.session.scalars(select(RefreshToken.family).order_by(RefreshToken.id)).first()
    assert count(sessions, RefreshToken, RefreshToken.family == family, RefreshToken.revoked_at.is_(None)) == 0
    assert count(sessions, RefreshToken) == 3
    assert refresh(client, other_session).status_code == 200


def test_an_expired_refresh_token_is_refused(client, acme, sessions):
    token = login(client).get_json()["refresh_token"]
    with UnitOfWork(sessions) as uow:
        uow.session.execute(update(RefreshToken).values(
            expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
        uow.commit()
    assert_problem(refresh(client, token), 401, "invalid_token")
    assert count(sessions, RefreshToken) == 1
    assert count(sessions, RefreshToken, RefreshToken.used_at.is_not(None)) == 0


def test_an_unknown_refresh_token_is_refused(client, acme, sessions):
    login(client)
    assert_problem(refresh(client, "not-a-token-we-issued"), 401, "invalid_token")
    assert count(sessions, RefreshToken) == 1


def test_an_access_token_is_not_a_refresh_token(client, acme, sessions):
    access = login(client).get_json()["access_token"]
    assert_problem(refresh(client, access), 401, "invalid_token")


# --- protected endpoints ------------------------------------------------------

def _expired(config, user):
    return issue_access_token(config, user_id=user.id, role=user.role,
                              now=datetime.now(timezone.utc) - timedelta(hours=2), ttl_seconds=60)


def _tampered(config, user):
    head, payload, signature = issue_access_token(config, user_id=user.id, role=user.role).split(".")
    return f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"


def _alg_none(config, user):
    now = datetime.now(timezone.utc)
    claims = {"sub": str(user.id), "role": user.role, "iss": config.issuer, "aud": config.audience,
              "iat": int(now.timestamp()), "exp": int((now + timedelta(hours=1)).timestamp())}
    return jwt.encode(claims, None, algorithm="none")


def _wrong_audience(config, user):
    return issue_access_token(replace(config, audience="another-service"), user_id=user.id, role=user.role)


@pytest.mark.parametrize("forge", [_expired, _tampered, _alg_none, _wrong_audience],
                         ids=["expired", "tampered", "alg-none", "wrong-audience"])
def test_a_bad_access_token_is_refused_on_a_protected_endpoint(client, app, acme, forge):
    token = forge(app.extensions["herald"].tokens, acme)
    response = client.get("/v1/messages/1", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401, "invalid_token")


def test_a_protected_endpoint_without_a_token_asks_for_one(client):
    assert_problem(client.get("/v1/messages/1"), 401, "unauthenticated")


def test_a_mobile_token_cannot_send_business_messages(client, auth, sessions):
    somchai = auth.user("mobile")
    response = client.post("/v1/messages", json={"to": [somchai.id], "body": "hi"},
                           headers=auth.headers(somchai))
    assert_problem(response, 403, "forbidden")
    assert count(sessions, Message) == 0


# --- rate limits --------------------------------------------------------------

def test_a_number_gets_at_most_five_codes_a_minute_whatever_its_spelling(env, sessions, publisher):
    limited = {name: value for name, value in env.items() if name != "RATE_LIMITS"}
    app = create_app(load_settings(limited), publisher=publisher,
                     test_config={"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"})
    client = app.test_client()
    for _ in range(5):
        assert client.post("/v1/auth/otp", json={"phone": PHONE}).status_code == 202
    assert_problem(client.post("/v1/auth/otp", json={"phone": "+66 81 234 5678"}), 429, "rate_limited")
    assert count(sessions, OtpCode) == 5
    assert client.post("/v1/auth/otp", json={"phone": "+66812349999"}).status_code == 202
