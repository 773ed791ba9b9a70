"""The users and audit pages with Flask's test client, and the audit
entries every sign-in leaves (password, code, admin page; success and
failure) — with no secret in them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import AuditEntry, User
from tests.integration.test_admin_pages import csrf_of, log_in
from tests.integration.test_auth_api import login, request_code, verify, wrong
from usecases.accounts.passwords import hash_password

PASSWORD = "correct horse battery staple"


@pytest.fixture
def admin(auth):
    return auth.user("admin", username="root", name="Root", password_hash=hash_password(PASSWORD))


@pytest.fixture
def logged_in(client, admin):
    assert log_in(client).status_code == 302
    return client


def audit(sessions) -> list[AuditEntry]:
    with UnitOfWork(sessions) as uow:
        return list(uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_find_create_disable_and_reset_on_the_pages(logged_in, auth, sessions, admin):
    somchai = auth.user("mobile", phone="+66812340001", name="Somchai")
    found = logged_in.get("/admin/users?q=081+234+0001").get_data(as_text=True)
    assert f'href="/admin/users/{somchai.id}"' in found and "Somchai" in found

    form = logged_in.get("/admin/users/new")
    short = logged_in.post("/admin/users/new", data={"csrf_token": csrf_of(form), "role": "business",
                                                     "username": "bistro", "password": "short"})
    assert short.status_code == 422 and "at least 12 characters" in short.get_data(as_text=True)
    made = logged_in.post("/admin/users/new", data={"csrf_token": csrf_of(form), "role": "business",
                                                    "username": "bistro", "name": "Bistro",
                                                    "password": "a long bistro password"})
    with UnitOfWork(sessions) as uow:
        bistro = uow.session.scalars(select(User).where(User.username == "bistro")).one()
    assert made.status_code == 302 and made.location == f"/admin/users/{bistro.id}"

    confirm = logged_in.get(f"/admin/users/{somchai.id}/confirm?action=disable")
    assert "Disable +66812340001?" in confirm.get_data(as_text=True)
    assert audit(sessions)[-1].action == "user.create"  # the confirmation page changed nothing
    done = logged_in.post(f"/admin/users/{somchai.id}/disable", data={"csrf_token": csrf_of(confirm)},
                          follow_redirects=True)
    assert "Disabled +66812340001: tokens and sockets stopped." in done.get_data(as_text=True)
    assert "user.disable" in done.get_data(as_text=True)  # the user's page shows its history

    page = logged_in.get(f"/admin/users/{bistro.id}/password")
    differ = logged_in.post(f"/admin/users/{bistro.id}/password",
                            data={"csrf_token": csrf_of(page), "password": "another long one", "repeat": "x"})
    assert differ.status_code == 422
    reset = logged_in.post(f"/admin/users/{bistro.id}/password", data={
        "csrf_token": csrf_of(page), "password": "another long one", "repeat": "another long one"})
    assert reset.status_code == 302
    actions = [(e.actor_id, e.action, e.details["via"]) for e in audit(sessions)]
    assert actions == [(admin.id, "sign_in.admin_page", "admin_page"), (admin.id, "user.create", "admin_page"),
                       (admin.id, "user.disable", "admin_page"), (admin.id, "user.password_reset", "admin_page")]
    assert not any("another long one" in str(e.details) or "a long bistro password" in str(e.details)
                   for e in audit(sessions))


def test_the_audit_page_filters_by_who_what_and_when_newest_first(logged_in, client, auth, sessions, admin):
    auth.user("business", username="acme", password_hash=hash_password("s3cret-passw0rd"))
    login(client, "acme")  # success, by acme
    login(client, "acme", "wrong")  # failure, nobody
    login(client, "nobody", "wrong")

    def rows(query: str) -> str:
        """The page from its flash messages on, without the filter form (which names every action)."""
        page = logged_in.get("/admin/audit" + query)
        assert page.status_code == 200
        return page.get_data(as_text=True).split("</form>", 2)[-1]

    everything = rows("")
    assert everything.index("sign_in.failed") < everything.index("sign_in.password")  # newest first
    by_acme = rows("?who=acme")
    assert "sign_in.password" in by_acme and "sign_in.failed" not in by_acme
    assert rows("?who=system").count("sign_in.failed") == 2
    assert "sign_in.admin_page" not in rows("?action=sign_in.failed")
    assert "No user &#39;ghost&#39;." in logged_in.get("/admin/audit?who=ghost").get_data(as_text=True)
    later = (datetime.now(timezone.utc) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    assert "No entries match." in rows(f"?since={later}")
    assert "sign_in.failed" in rows(f"?until={later}")
    first = rows("?limit=2")
    assert "Older →" in first and first.count("<tr>") == 3  # the header and two entries
    assert logged_in.get("/admin/audit?action=Bad!").status_code == 422


def test_every_sign_in_is_audited_and_a_disabled_account_is_refused(client, caplog, auth, sessions, admin):
    code = request_code(client, caplog)
    assert verify(client, wrong(code)).status_code == 401
    assert verify(client, code).status_code == 200
    failed, succeeded = [e for e in audit(sessions) if e.action in ("sign_in.failed", "sign_in.otp")]
    assert (failed.action, failed.actor_id, failed.details["method"], failed.details["reason"]) == \
        ("sign_in.failed", None, "otp", "invalid_otp")
    assert succeeded.action == "sign_in.otp" and succeeded.actor_id == int(succeeded.target_id)
    assert not any(code in str(e.details) or wrong(code) in str(e.details) for e in audit(sessions))

    as_admin = auth.headers(admin)
    client.post(f"/v1/admin/users/{succeeded.actor_id}/disable", headers=as_admin)
    again = verify(client, request_code(client, caplog))
    assert again.status_code == 403 and again.get_json()["code"] == "account_disabled"
    assert audit(sessions)[-1].details["reason"] == "account_disabled"
