"""Only admins reach the users and audit pages and their API, table-driven
from the url_map: every route under /v1/admin/users, /v1/admin/audit,
/admin/users and /admin/audit is tried anonymously, as a business user and
as a mobile user (bearer tokens, and for pages the business user's
password at the login form too) — refused, and nothing changes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from db.engine import UnitOfWork
from db.models import AuditEntry, RefreshToken, User
from tests.integration.test_admin_pages import csrf_of, log_in
from usecases.accounts.passwords import hash_password

PASSWORD = "correct horse battery staple"
GUARDED = re.compile(r"^/(v1/admin/(users|audit)|admin/(users|audit))")


def guarded_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if GUARDED.match(rule.rule):
            path = re.sub(r"<int:[^>]+>", "1", rule.rule)
            routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def snapshot(sessions) -> tuple:
    with UnitOfWork(sessions) as uow:
        users = uow.session.execute(select(User.id, User.role, User.disabled_at, User.token_generation,
                                           User.password_hash).order_by(User.id)).all()
        revoked = uow.session.scalar(select(func.count()).where(RefreshToken.revoked_at.is_not(None)))
        audited = uow.session.scalar(select(func.count()).select_from(AuditEntry)
                                     .where(AuditEntry.action.not_like("sign_in.%")))
        return users, revoked, audited


@pytest.fixture
def people(auth):
    admin = auth.user("admin", username="root", password_hash=hash_password(PASSWORD))
    business = auth.user("business", username="shop", password_hash=hash_password(PASSWORD))
    mobile = auth.user("mobile")
    return admin, business, mobile


def test_the_table_covers_every_users_and_audit_route(app):
    paths = {path for _, path in guarded_routes(app)}
    assert {"/v1/admin/users", "/v1/admin/users/1/disable", "/v1/admin/audit", "/admin/users",
            "/admin/users/1/disable", "/admin/audit"} <= paths
    assert len(guarded_routes(app)) == 21


@pytest.mark.parametrize("persona", ["anonymous", "business", "mobile"])
def test_only_admins_get_in_and_nothing_changes(app, client, auth, sessions, people, persona):
    admin, business, mobile = people
    headers = {} if persona == "anonymous" else auth.headers(business if persona == "business" else mobile)
    body = {"role": "admin", "username": "x", "password": "a long password long"}
    before = snapshot(sessions)
    for method, path in guarded_routes(app):
        answer = client.open(path, method=method, headers=headers, json=body if path.startswith("/v1") else None,
                             data=None if path.startswith("/v1") else {"role": "admin"})
        if path.startswith("/v1"):
            expected = 401 if persona == "anonymous" else 403
            assert answer.status_code == expected, (method, path, answer.status_code)
            assert answer.get_json()["code"] == ("unauthenticated" if persona == "anonymous" else "forbidden")
        elif method == "GET":
            # Pages never read bearer tokens: anyone without an admin session goes to the login page.
            assert answer.status_code == 302 and answer.location.startswith("/admin/login"), (method, path)
        else:
            assert answer.status_code in (302, 400), (method, path, answer.status_code)  # no session, no CSRF token
    assert snapshot(sessions) == before


def test_a_business_users_password_opens_no_admin_session(client, sessions, people):
    admin, business, mobile = people
    refused = log_in(client, "shop", PASSWORD)
    assert refused.status_code == 401
    assert client.get("/admin/users").status_code == 302
    with UnitOfWork(sessions) as uow:
        [entry] = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "sign_in.failed")).all()
    assert entry.details["username"] == "shop" and entry.details["reason"] == "invalid_credentials"


def test_an_admin_gets_in_and_a_disabled_admin_is_out_at_once(app, client, auth, sessions, people):
    admin, business, mobile = people
    other = auth.user("admin", username="other", password_hash=hash_password(PASSWORD))
    assert log_in(client).status_code == 302
    for method, path in guarded_routes(app):
        if method == "GET" and "/confirm" not in path and path.startswith("/admin"):
            assert client.get(path.replace("/1", f"/{business.id}")).status_code == 200, path
    second = app.test_client()
    assert log_in(second, "other").status_code == 302 and second.get("/admin/users").status_code == 200
    page = client.get(f"/admin/users/{other.id}/confirm?action=disable")
    assert client.post(f"/admin/users/{other.id}/disable", data={"csrf_token": csrf_of(page)}).status_code == 302
    assert second.get("/admin/users").status_code == 302  # the session re-reads the account each request
