"""Password hashing, for the command line and the tests that create
accounts; it lives with the sign-in use cases (usecases.accounts.passwords)."""

from usecases.accounts.passwords import PASSWORD_ROLES, check_password_login, hash_password, verify_password

__all__ = ["PASSWORD_ROLES", "check_password_login", "hash_password", "verify_password"]
