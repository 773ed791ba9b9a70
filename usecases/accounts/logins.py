"""Signing in over the API and the admin pages: texted codes, passwords,
refresh tokens. Each runs one unit of work and answers plain values; the
edge pairs the session's refresh token with an access token it signs.

Every sign-in is audited, success or failure, in the unit of work that
decides it (a refused one commits its entry before the refusal is
raised); entries name the account or the username/number tried, never the
password or code. A disabled account is refused after its credential
checked out, so the refusal tells nothing to who does not hold it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from db.engine import UnitOfWork
from db.models import User
from pipeline.errors import AccountDisabled, HeraldError, InvalidCredentials
from usecases.accounts.otp import consume_otp, issue_otp
from usecases.accounts.passwords import check_password_login
from usecases.accounts.sign_in import SignedIn, open_session, refresh_session, sign_in_mobile, user_by_username
from usecases.operations.audit import Actor, audit
from usecases.ports import CodeSender, Ports, SignInPolicy


@dataclass(frozen=True)
class Account:
    """Who signed in, as the edge shows and signs it."""

    id: int
    role: str
    phone: str | None
    name: str | None
    username: str | None
    generation: int = 0  # the token generation its access tokens carry (D60)


@dataclass(frozen=True)
class SignedInSession:
    account: Account
    refresh_token: str


def account_of(user: User) -> Account:
    return Account(user.id, user.role, user.phone, user.name, user.username, user.token_generation)


def send_sign_in_code(ports: Ports, policy: SignInPolicy, sms: CodeSender, phone: str) -> None:
    """Text a fresh code to `phone` (normalized); any older live code stops working."""
    with UnitOfWork(ports.sessions) as uow:
        code = issue_otp(uow.session, phone, now=_now(), ttl_seconds=policy.otp_ttl_seconds,
                         pepper=policy.otp_pepper)
        uow.commit()
    sms.send_code(phone, code)


def sign_in_with_code(ports: Ports, policy: SignInPolicy, phone: str, code: str,
                      door: Actor = Actor(None, "api")) -> SignedInSession:
    """Spend the phone's code and open a session, creating or activating its account.

    Raises:
        InvalidOtp, TooManyAttempts: counted on the code before they are raised.
        AccountDisabled: the right code for a disabled account.
    """
    now = _now()
    with UnitOfWork(ports.sessions) as uow:
        outcome = consume_otp(uow.session, phone, code, now=now, pepper=policy.otp_pepper,
                              max_attempts=policy.otp_max_attempts)
        if outcome is None:
            try:
                outcome = _enabled(sign_in_mobile(uow.session, phone, now=now,
                                                  ttl_seconds=policy.refresh_ttl_seconds))
            except HeraldError as refused:
                uow.session.rollback()  # nothing of the refused session stays; the spent code neither
                outcome = refused
        _audit_sign_in(uow.session, door, "sign_in.otp", outcome, now, phone=phone)
        uow.commit()  # a wrong guess must count even though it is refused
    return _session(outcome)


def sign_in_with_password(ports: Ports, policy: SignInPolicy, username: str, password: str,
                          door: Actor = Actor(None, "api")) -> SignedInSession:
    """Raises: InvalidCredentials: unknown user, wrong password, or an account that signs in by code.
    AccountDisabled: the right password of a disabled account."""
    now = _now()
    with UnitOfWork(ports.sessions) as uow:
        user = user_by_username(uow.session, username)
        user_id = user.id if user is not None else None  # read before a rollback expires it
        try:
            outcome = _enabled(open_session(uow.session, check_password_login(user, password), now=now,
                                            ttl_seconds=policy.refresh_ttl_seconds))
        except HeraldError as refused:
            uow.session.rollback()
            outcome = refused
        _audit_sign_in(uow.session, door, "sign_in.password", outcome, now, username=username, user_id=user_id)
        uow.commit()
    return _session(outcome)


def continue_session(ports: Ports, policy: SignInPolicy, refresh_token: str) -> SignedInSession:
    """The session's next refresh token.

    Raises:
        InvalidToken: unknown, expired or replayed (a replay revokes the family, committed first).
        AccountDisabled: the account was disabled (its tokens were revoked then; this is a backstop).
    """
    with UnitOfWork(ports.sessions) as uow:
        outcome = refresh_session(uow.session, refresh_token, now=_now(), ttl_seconds=policy.refresh_ttl_seconds)
        if not isinstance(outcome, HeraldError) and outcome.user.disabled_at is not None:
            uow.session.rollback()
            raise AccountDisabled("the account is disabled")
        uow.commit()  # a replayed token's family stays revoked though the request is refused
    return _session(outcome)


def admin_by_password(ports: Ports, username: str, password: str,
                      door: Actor = Actor(None, "admin_page")) -> Account | None:
    """The enabled admin account these credentials open, or None (any other account included)."""
    now = _now()
    with UnitOfWork(ports.sessions) as uow:
        user = user_by_username(uow.session, username)
        try:
            checked = check_password_login(user, password)
            if checked.role != "admin":
                raise InvalidCredentials("not an admin account")
            outcome: User | HeraldError = _enabled_user(checked)
        except HeraldError as refused:
            outcome = refused
        _audit_sign_in(uow.session, door, "sign_in.admin_page", outcome, now, username=username,
                       user_id=user.id if user is not None else None)
        uow.commit()
        return None if isinstance(outcome, HeraldError) else account_of(outcome)


def admin_account(ports: Ports, user_id: int) -> Account | None:
    """The account, if it still exists, is still an admin and is not disabled."""
    with UnitOfWork(ports.sessions) as uow:
        user = uow.session.get(User, user_id)
        ok = user is not None and user.role == "admin" and user.disabled_at is None
        return account_of(user) if ok else None


def _enabled(signed_in: SignedIn | HeraldError) -> SignedIn | HeraldError:
    if isinstance(signed_in, HeraldError):
        return signed_in
    _enabled_user(signed_in.user)
    return signed_in


def _enabled_user(user: User) -> User:
    if user.disabled_at is not None:
        raise AccountDisabled("the account is disabled; ask an admin")
    return user


def _audit_sign_in(session, door: Actor, action: str, outcome, now: datetime, *, user_id: int | None = None,
                   **tried) -> None:
    """Success: the account acted on itself. Failure: nobody (yet) acted, on the account tried if it exists."""
    if isinstance(outcome, HeraldError):
        audit(session, actor_id=None, action="sign_in.failed", target_type="user", target_id=user_id,
              details=door.details(method=action.removeprefix("sign_in."), reason=outcome.code, **tried), now=now)
        return
    user = outcome if isinstance(outcome, User) else outcome.user
    audit(session, actor_id=user.id, action=action, target_type="user", target_id=user.id,
          details=door.details(), now=now)


def _session(outcome: SignedIn | HeraldError) -> SignedInSession:
    if isinstance(outcome, HeraldError):
        raise outcome
    return SignedInSession(account_of(outcome.user), outcome.refresh_token)


def _now() -> datetime:
    return datetime.now(timezone.utc)
