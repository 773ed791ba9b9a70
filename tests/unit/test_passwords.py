"""Password hashing: argon2id, salted, and no shortcut for unknown users."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipeline.errors import InvalidCredentials
from usecases.accounts.passwords import check_password_login, hash_password, verify_password


def test_a_password_verifies_against_its_own_hash():
    assert verify_password(hash_password("correct horse"), "correct horse")


def test_a_wrong_password_does_not_verify():
    assert not verify_password(hash_password("correct horse"), "battery staple")


def test_hashes_are_argon2id_and_salted():
    first, second = hash_password("same"), hash_password("same")
    assert first.startswith("$argon2id$")
    assert first != second


def test_a_missing_hash_never_verifies():
    assert not verify_password(None, "not a password anyone has")


def test_a_malformed_hash_does_not_verify():
    assert not verify_password("plaintext-in-the-column", "plaintext-in-the-column")


def test_business_and_admin_users_log_in_with_their_password():
    for role in ("business", "admin"):
        user = SimpleNamespace(role=role, password_hash=hash_password("pw"))
        assert check_password_login(user, "pw") is user


@pytest.mark.parametrize("user, password", [
    (None, "pw"),
    (SimpleNamespace(role="business", password_hash=hash_password("pw")), "wrong"),
    (SimpleNamespace(role="mobile", password_hash=hash_password("pw")), "pw"),
    (SimpleNamespace(role="mobile", password_hash=None), ""),
], ids=["unknown user", "wrong password", "mobile user with a password", "mobile user without one"])
def test_everyone_else_is_refused_with_the_same_error(user, password):
    with pytest.raises(InvalidCredentials):
        check_password_login(user, password)
