"""Passwords of business and admin users, hashed with argon2id.

An unknown username is checked against a dummy hash so a login answers in
the same time whether or not the account exists.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from db.models import User
from pipeline.errors import InvalidCredentials

PASSWORD_ROLES = ("business", "admin")


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not a password anyone has")


def hash_password(password: str) -> str:
    """The argon2id hash of `password`, salt and parameters included."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches `password_hash`; None never matches but costs as much."""
    try:
        matched = _hasher().verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


def check_password_login(user: User | None, password: str) -> User:
    """The user, when it may log in with `password`.

    Raises:
        InvalidCredentials: unknown user, wrong password, or a role that signs in by OTP.
    """
    matched = verify_password(user.password_hash if user else None, password)
    if not matched or user is None or user.role not in PASSWORD_ROLES:
        raise InvalidCredentials("the username or password is wrong")
    return user
