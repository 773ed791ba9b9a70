"""The admin pages with Flask's test client: login, who is let in, CSRF on
every POST, the dead-letter table, confirmation, requeue and discard."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import AuditEntry, DeadLetter
from tests.integration.test_admin_dead_letters_api import kill
from usecases.accounts.passwords import hash_password

PASSWORD = "correct horse battery staple"


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def log_in(client, username="root", password=PASSWORD):
    token = csrf_of(client.get("/admin/login"))
    return client.post("/admin/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def admin(auth):
    return auth.user("admin", username="root", name="Root", password_hash=hash_password(PASSWORD))


@pytest.fixture
def logged_in(client, admin):
    assert log_in(client).status_code == 302
    return client


def states(sessions):
    with UnitOfWork(sessions) as uow:
        return {letter.id: letter.state for letter in uow.session.scalars(select(DeadLetter))}


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    for path in ("/admin/dead-letters", "/admin/dead-letters/1", "/admin/dead-letters/confirm?action=requeue&ids=1"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.startswith("/admin/login?next=")


def test_only_an_admin_password_logs_in_and_the_cookie_is_httponly_and_lax(client, auth, admin):
    auth.user("business", username="acme", password_hash=hash_password(PASSWORD))
    assert log_in(client, "acme").status_code == 401
    assert log_in(client, "root", "wrong").status_code == 401
    assert client.get("/admin/dead-letters").status_code == 302
    response = log_in(client)
    assert response.status_code == 302 and response.location == "/admin/dashboard"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("herald_admin=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/admin/dead-letters").status_code == 200


def test_login_returns_to_a_local_page_only(client, admin):
    def landing(next_page):
        form = {"username": "root", "password": PASSWORD, "csrf_token": csrf_of(client.get("/admin/login"))}
        return client.post(f"/admin/login?next={next_page}", data=form).location

    assert landing("/admin/dead-letters/7") == "/admin/dead-letters/7"
    assert landing("https://evil.example/") == "/admin/dashboard"
    assert landing("//evil.example/") == "/admin/dashboard"


def test_every_post_needs_the_csrf_token(client, admin, sessions):
    refused = client.post("/admin/login", data={"username": "root", "password": PASSWORD})
    assert refused.status_code == 400 and "Form expired" in refused.get_data(as_text=True)
    log_in(client)
    letter = kill(sessions)
    for path, form in (("/admin/dead-letters/requeue", {"ids": letter}),
                       ("/admin/dead-letters/discard", {"ids": letter}), ("/admin/logout", {})):
        assert client.post(path, data=form).status_code == 400
        assert client.post(path, data={**form, "csrf_token": "forged"}).status_code == 400
    assert states(sessions) == {letter: "dead"}


def test_the_json_api_needs_no_csrf_token(client, auth, sessions):
    letter = kill(sessions)
    headers = auth.headers(auth.user("admin", username="api"))
    assert client.post(f"/v1/admin/dead-letters/{letter}/requeue", headers=headers).status_code == 200


def test_the_table_lists_filters_and_links_each_letter(logged_in, sessions):
    push = kill(sessions, queue="push", actor="send_push", args=(5, 6), reason="PushRejected")
    other = kill(sessions, reason="MessageNotFound")
    page = logged_in.get("/admin/dead-letters").get_data(as_text=True)
    assert f'href="/admin/dead-letters/{push}"' in page and f'href="/admin/dead-letters/{other}"' in page
    filtered = logged_in.get("/admin/dead-letters?reason=PushRejected&queue=").get_data(as_text=True)
    assert f"#{push}<" in filtered and f"#{other}<" not in filtered
    assert logged_in.get("/admin/dead-letters?sender_id=abc").status_code == 422
    detail = logged_in.get(f"/admin/dead-letters/{push}").get_data(as_text=True)
    assert "PushRejected" in detail and "[5, 6]" in detail and "last: boom" in detail and "first: boom" in detail
    assert logged_in.get("/admin/dead-letters/999999").status_code == 404


def test_a_requeue_is_confirmed_then_done_with_a_count_and_an_audit_entry(logged_in, sessions, publisher, admin):
    first, second = kill(sessions), kill(sessions)
    confirm = logged_in.get(f"/admin/dead-letters/confirm?action=requeue&ids={first}&ids={second}")
    text = confirm.get_data(as_text=True)
    assert "Requeue 2 dead letters?" in text and states(sessions) == {first: "dead", second: "dead"}
    done = logged_in.post("/admin/dead-letters/requeue", data={"ids": [first, second], "csrf_token": csrf_of(confirm)},
                          follow_redirects=True)
    assert "Requeued 2 dead letters." in done.get_data(as_text=True)
    assert states(sessions) == {first: "requeued", second: "requeued"} and len(publisher.jobs) == 2
    with UnitOfWork(sessions) as uow:
        audit = uow.session.scalars(select(AuditEntry).where(AuditEntry.target_type == "dead_letter")).all()
    assert {(a.actor_id, a.action, a.details["via"]) for a in audit} == {(admin.id, "dead_letter.requeue", "admin_page")}


def test_requeue_all_matching_takes_only_the_filtered_dead_letters(logged_in, sessions, publisher):
    push = [kill(sessions, queue="push", actor="send_push", args=(n,)) for n in range(3)]
    other = kill(sessions)
    confirm = logged_in.get("/admin/dead-letters/confirm?action=requeue-matching&queue=push")
    assert "3 dead letters match" in confirm.get_data(as_text=True)
    done = logged_in.post("/admin/dead-letters/requeue", data={"scope": "matching", "queue": "push",
                                                               "csrf_token": csrf_of(confirm)})
    assert done.location == "/admin/dead-letters?queue=push"
    assert states(sessions) == {**{n: "requeued" for n in push}, other: "dead"}


def test_discard_and_nothing_selected(logged_in, sessions):
    letter = kill(sessions)
    nothing = logged_in.get("/admin/dead-letters/confirm?action=requeue", follow_redirects=True)
    assert "Select at least one dead letter first." in nothing.get_data(as_text=True)
    confirm = logged_in.get(f"/admin/dead-letters/confirm?action=discard&ids={letter}")
    assert "Discard 1 dead letter?" in confirm.get_data(as_text=True)
    done = logged_in.post("/admin/dead-letters/discard", data={"ids": letter, "csrf_token": csrf_of(confirm)},
                          follow_redirects=True)
    assert "Discarded 1 dead letter." in done.get_data(as_text=True) and states(sessions) == {letter: "discarded"}
    again = logged_in.post("/admin/dead-letters/discard", data={"ids": letter, "csrf_token": csrf_of(confirm)},
                           follow_redirects=True)
    assert "Discarded 0 dead letters. 1 dead letter no longer dead, skipped." in again.get_data(as_text=True)


def test_logout_ends_the_session_and_a_demoted_admin_is_out(logged_in, sessions, admin):
    page = logged_in.get("/admin/dead-letters")
    assert logged_in.post("/admin/logout", data={"csrf_token": csrf_of(page)}).location == "/admin/login"
    assert logged_in.get("/admin/dead-letters").status_code == 302
    log_in(logged_in)
    with UnitOfWork(sessions) as uow:
        uow.session.get(type(admin), admin.id).role = "business"
        uow.commit()
    assert logged_in.get("/admin/dead-letters").status_code == 302
