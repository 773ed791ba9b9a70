"""Signing in over the API and the admin pages: texted codes, passwords,
refresh tokens. Each runs one unit of work and answers plain values; the
edge pairs the session's refresh token with an access token it signs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from db.engine import UnitOfWork
from db.models import User
from pipeline.errors import HeraldError, InvalidCredentials
from usecases.accounts.otp import consume_otp, issue_otp
from usecases.accounts.passwords import check_password_login
from usecases.accounts.sign_in import SignedIn, open_session, refresh_session, sign_in_mobile, user_by_username
from usecases.ports import CodeSender, Ports, SignInPolicy


@dataclass(frozen=True)
class Account:
    """Who signed in, as the edge shows and signs it."""

    id: int
    role: str
    phone: str | None
    name: str | None
    username: str | None


@dataclass(frozen=True)
class SignedInSession:
    account: Account
    refresh_token: str


def account_of(user: User) -> Account:
    return Account(user.id, user.role, user.phone, user.name, user.username)


def send_sign_in_code(ports: Ports, policy: SignInPolicy, sms: CodeSender, phone: str) -> None:
    """Text a fresh code to `phone` (normalized); any older live code stops working."""
    with UnitOfWork(ports.sessions) as uow:
        code = issue_otp(uow.session, phone, now=_now(), ttl_seconds=policy.otp_ttl_seconds,
                         pepper=policy.otp_pepper)
        uow.commit()
    sms.send_code(phone, code)


def sign_in_with_code(ports: Ports, policy: SignInPolicy, phone: str, code: str) -> SignedInSession:
    """Spend the phone's code and open a session, creating or activating its account.

    Raises:
        InvalidOtp, TooManyAttempts: counted on the code before they are raised.
    """
    now = _now()
    with UnitOfWork(ports.sessions) as uow:
        outcome = consume_otp(uow.session, phone, code, now=now, pepper=policy.otp_pepper,
                              max_attempts=policy.otp_max_attempts)
        if outcome is None:
            outcome = sign_in_mobile(uow.session, phone, now=now, ttl_seconds=policy.refresh_ttl_seconds)
        uow.commit()  # a wrong guess must count even though it is refused
    return _session(outcome)


def sign_in_with_password(ports: Ports, policy: SignInPolicy, username: str, password: str) -> SignedInSession:
    """Raises: InvalidCredentials: unknown user, wrong password, or an account that signs in by code."""
    with UnitOfWork(ports.sessions) as uow:
        user = check_password_login(user_by_username(uow.session, username), password)
        signed_in = open_session(uow.session, user, now=_now(), ttl_seconds=policy.refresh_ttl_seconds)
        uow.commit()
    return _session(signed_in)


def continue_session(ports: Ports, policy: SignInPolicy, refresh_token: str) -> SignedInSession:
    """The session's next refresh token.

    Raises:
        InvalidToken: unknown, expired or replayed (a replay revokes the family, committed first).
    """
    with UnitOfWork(ports.sessions) as uow:
        outcome = refresh_session(uow.session, refresh_token, now=_now(), ttl_seconds=policy.refresh_ttl_seconds)
        uow.commit()  # a replayed token's family stays revoked though the request is refused
    return _session(outcome)


def admin_by_password(ports: Ports, username: str, password: str) -> Account | None:
    """The admin account these credentials open, or None (any other account included)."""
    with UnitOfWork(ports.sessions) as uow:
        try:
            user = check_password_login(user_by_username(uow.session, username), password)
        except InvalidCredentials:
            return None
        return account_of(user) if user.role == "admin" else None


def admin_account(ports: Ports, user_id: int) -> Account | None:
    """The account, if it still exists and is still an admin."""
    with UnitOfWork(ports.sessions) as uow:
        user = uow.session.get(User, user_id)
        return account_of(user) if user is not None and user.role == "admin" else None


def _session(outcome: SignedIn | HeraldError) -> SignedInSession:
    if isinstance(outcome, HeraldError):
        raise outcome
    return SignedInSession(account_of(outcome.user), outcome.refresh_token)


def _now() -> datetime:
    return datetime.now(timezone.utc)
