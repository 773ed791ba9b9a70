"""The admin pages' login: a signed, HttpOnly, SameSite=Lax session cookie
holding the admin's user id, re-checked against the database on every
request, and CSRF tokens on every POST of those pages only.

The JSON API never reads this cookie (bearer tokens only), so it needs and
gets no CSRF check.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from functools import wraps

from flask import Flask, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect

from usecases.accounts.logins import Account, admin_account
from web.resources import resources

SESSION_SECONDS = 8 * 3600
csrf = CSRFProtect()


def session_secret(jwt_secret: str) -> str:
    """Flask's SECRET_KEY, derived so the JWT secret itself signs no cookie."""
    return hmac.new(jwt_secret.encode(), b"herald admin session", hashlib.sha256).hexdigest()


def init_app(app: Flask) -> None:
    """Cookie rules and CSRF for the admin pages (called when their blueprint registers)."""
    app.config.update(SESSION_COOKIE_NAME="herald_admin", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax",
                      # Only views that call csrf.protect() are checked: the admin pages.
                      WTF_CSRF_CHECK_DEFAULT=False)
    csrf.init_app(app)


def log_in(user: Account) -> None:
    session.clear()
    session["admin_id"] = user.id
    session["expires_at"] = int(time.time()) + SESSION_SECONDS


def log_out() -> None:
    session.clear()


def current_admin() -> Account | None:
    """The logged-in admin, if the session is live and the account is still an admin."""
    admin_id, expires_at = session.get("admin_id"), session.get("expires_at", 0)
    if admin_id is None or expires_at < time.time():
        return None
    return admin_account(resources().ports, admin_id)


def admin_page(view):
    """Send anyone who is not a logged-in admin to the login page."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        admin = current_admin()
        if admin is None:
            log_out()
            return redirect(url_for("admin_pages.login", next=request.full_path.rstrip("?")))
        return view(admin, *args, **kwargs)
    return wrapper
