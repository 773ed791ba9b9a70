"""Accounts an admin controls, on the real PostgreSQL and Redis: search,
create, disable and enable, reset a password, revoke sessions, change a
role — each audited in its own transaction — and a disabled user's tokens
refused at once, cached claims included, on this edge and on another."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import AuditEntry, RefreshToken, User, WsTicket
from pipeline.errors import Forbidden, LastAdmin, NotFound, ValidationFailed
from realtime import InProcessRealtime
from tests.integration.test_auth_api import login, refresh
from tests.integration.test_openapi import _Contract
from tests.support.tokens import bearer
from usecases.accounts import account_control as control
from usecases.accounts.passwords import hash_password
from usecases.accounts.user_directory import UserQuery, create_account, search_users, user_detail
from usecases.operations.audit import Actor
from web import create_app
from web.app import start_revocation_watch
from web.auth.tokens import issue_access_token
from web.blueprints.apidocs import spec as load_spec
from web.ws.mailbox import Mailbox

PASSWORD = "s3cret-passw0rd"


@pytest.fixture
def admin(auth):
    return auth.user("admin", username="ops", name="Ops", password_hash=hash_password(PASSWORD))


@pytest.fixture
def acme(auth):
    return auth.user("business", username="acme", name="Acme Hotels", password_hash=hash_password(PASSWORD))


@pytest.fixture
def ports(app):
    return app.extensions["herald"].ports


@pytest.fixture(autouse=True)
def watching(app):
    """The test app hears revocations as every production edge does (gunicorn's post_worker_init)."""
    start_revocation_watch(app)


def entries(sessions, action=None) -> list[AuditEntry]:
    with UnitOfWork(sessions) as uow:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(uow.session.scalars(query))


def user_row(sessions, user_id) -> User:
    with UnitOfWork(sessions) as uow:
        return uow.session.get(User, user_id)


def token_for(app, user, generation=0) -> dict:
    return bearer(issue_access_token(app.extensions["herald"].tokens, user_id=user.id, role=user.role,
                                     generation=generation))


def test_search_finds_by_phone_digits_username_start_and_name(ports, auth, acme):
    somchai = auth.user("mobile", phone="+66812349876", name="Somchai Jaidee")
    auth.user("mobile", phone="+66899990000", name="Lek")

    def ids(text, **more):
        return [u["id"] for u in search_users(ports, UserQuery(text, **more), limit=10)["items"]]

    assert ids("081 234 9876") == ids("+66 81 234 9876") == ids("2349876") == [somchai.id]
    assert ids("ACM") == [acme.id] and ids("jaidee") == [somchai.id]
    assert ids("%") == [] and ids("_") == []  # wildcards are text, not patterns
    assert ids(None, role="business") == [acme.id]
    page = search_users(ports, UserQuery(), limit=2)
    rest = search_users(ports, UserQuery(), limit=2, cursor=page["next_cursor"])
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert "password_hash" not in page["items"][0]


def test_creating_a_user_is_audited_without_the_password(ports, sessions, admin):
    created = create_account(ports, Actor(admin.id, "api", "10.0.0.7"), role="business", username="bistro",
                             password="a long password", name="Bistro")
    assert created["role"] == "business" and created["username"] == "bistro"
    [entry] = entries(sessions, "user.create")
    assert (entry.actor_id, entry.target_id) == (admin.id, str(created["id"]))
    assert entry.details == {"via": "api", "address": "10.0.0.7", "role": "business", "username": "bistro"}
    assert "a long password" not in str(entry.details)
    with pytest.raises(ValidationFailed) as refused:
        create_account(ports, Actor(admin.id, "api"), role="mobile", username="x", password="a long password")
    assert refused.value.code == "validation_failed"


def test_disable_voids_tokens_refresh_tokens_and_tickets_in_one_audited_transaction(
        client, app, ports, sessions, admin, acme):
    signed_in = login(client).get_json()
    as_acme = bearer(signed_in["access_token"])
    assert client.get("/v1/conversations", headers=as_acme).status_code == 200  # the claims are now cached

    answer = client.post(f"/v1/admin/users/{acme.id}/disable", headers=token_for(app, admin))
    assert answer.status_code == 200 and answer.get_json()["disabled"] is True

    # At once, on this edge: the cached claims do not save the token.
    refused = client.get("/v1/conversations", headers=as_acme)
    assert refused.status_code == 401 and refused.get_json()["code"] == "invalid_token"
    assert refresh(client, signed_in["refresh_token"]).status_code == 401
    again = login(client)
    assert again.status_code == 403 and again.get_json()["code"] == "account_disabled"
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalar(select(RefreshToken.revoked_at).where(RefreshToken.user_id == acme.id))
        user = uow.session.get(User, acme.id)
        assert user.disabled_at is not None and user.token_generation == 1
    [entry] = entries(sessions, "user.disable")
    assert (entry.actor_id, entry.target_id, entry.details["via"]) == (admin.id, str(acme.id), "api")
    assert entry.details["refresh_tokens_revoked"] == 1

    enabled = control.enable(ports, Actor(admin.id, "api"), acme.id)
    assert enabled["disabled"] is False
    assert client.get("/v1/conversations", headers=as_acme).status_code == 401  # old tokens stay void
    fresh = login(client).get_json()
    assert client.get("/v1/conversations", headers=bearer(fresh["access_token"])).status_code == 200


def test_a_refused_action_writes_no_audit_entry(ports, sessions, admin):
    with pytest.raises(Forbidden) as refused:
        control.disable(ports, Actor(admin.id, "api"), admin.id)
    assert refused.value.code == "forbidden"
    with pytest.raises(NotFound) as missing:
        control.revoke_sessions(ports, Actor(admin.id, "api"), 999_999)
    assert missing.value.code == "not_found"
    assert [e.action for e in entries(sessions) if e.action.startswith("user.")] == []
    assert user_row(sessions, admin.id).token_generation == 0


def test_the_last_enabled_admin_stays(ports, auth, sessions, admin):
    other = auth.user("admin", username="second")
    control.disable(ports, Actor(admin.id, "api"), other.id)
    with pytest.raises(LastAdmin) as refused:
        control.change_role(ports, Actor(other.id, "api"), admin.id, "business")  # other is disabled: admin is last
    assert refused.value.code == "last_admin"
    assert user_row(sessions, admin.id).role == "admin"


def test_reset_password_ends_sessions_and_only_the_new_password_works(client, ports, sessions, admin, acme):
    old = login(client).get_json()
    control.reset_password(ports, Actor(admin.id, "admin_page"), acme.id, "another long password")
    assert client.get("/v1/conversations", headers=bearer(old["access_token"])).status_code == 401
    assert refresh(client, old["refresh_token"]).status_code == 401
    assert login(client).status_code == 401
    assert login(client, password="another long password").status_code == 200
    [entry] = entries(sessions, "user.password_reset")
    assert "password" not in entry.details and "another long password" not in str(entry.details)


def test_revoke_sessions_and_role_change(client, app, ports, sessions, admin, acme, auth):
    first = login(client).get_json()
    summary = control.revoke_sessions(ports, Actor(admin.id, "api"), acme.id)
    assert summary["token_generation"] == 1
    assert client.get("/v1/conversations", headers=bearer(first["access_token"])).status_code == 401
    second = login(client).get_json()  # a new sign-in signs the new generation
    assert client.get("/v1/conversations", headers=bearer(second["access_token"])).status_code == 200

    control.change_role(ports, Actor(admin.id, "api"), acme.id, "admin")
    assert client.get("/v1/conversations", headers=bearer(second["access_token"])).status_code == 401
    renewed = refresh(client, second["refresh_token"]).get_json()  # the refresh token survives a role change
    assert renewed["user"]["role"] == "admin"
    assert client.get("/v1/admin/users", headers=bearer(renewed["access_token"])).status_code == 200
    [entry] = entries(sessions, "user.role_change")
    assert (entry.details["from"], entry.details["to"]) == ("business", "admin")
    history = [h["action"] for h in user_detail(ports, acme.id)["history"]]  # newest first
    assert history == ["user.role_change", "sign_in.password", "user.sessions_revoked", "sign_in.password"]


def test_tickets_of_a_disabled_user_are_spent(client, app, ports, sessions, admin, auth):
    nok = auth.user("mobile")
    ticket = client.post("/v1/ws/ticket", headers=token_for(app, nok)).get_json()["ticket"]
    control.disable(ports, Actor(admin.id, "api"), nok.id)
    with UnitOfWork(sessions) as uow:
        assert all(t.used_at is not None for t in uow.session.scalars(select(WsTicket)))
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    assert client.get(f"/v1/ws?ticket={ticket}", headers=upgrade).status_code == 401


def test_another_edge_refuses_a_cached_token_within_a_pub_sub_hop(settings, sessions, publisher, auth, admin):
    """Two edge processes' worth of apps, each with its own revocation list
    and Redis subscriber: the disable goes through A; B hears it on the
    control channel. The token's claims are cached, so only the list refuses it."""
    edge_a = create_app(settings, publisher=publisher, test_config={"TESTING": True})
    edge_b = create_app(settings, publisher=publisher, test_config={"TESTING": True})
    for edge in (edge_a, edge_b):
        start_revocation_watch(edge)
    nok = auth.user("mobile")
    as_nok = token_for(edge_b, nok)
    assert edge_b.test_client().get("/v1/conversations", headers=as_nok).status_code == 200

    started = time.monotonic()
    assert edge_a.test_client().post(f"/v1/admin/users/{nok.id}/disable",
                                     headers=token_for(edge_a, admin)).status_code == 200
    while edge_b.test_client().get("/v1/conversations", headers=as_nok).status_code == 200:
        assert time.monotonic() - started < 2.0, "edge B never heard the revocation"
        time.sleep(0.005)
    print(f"\nedge B refused the token {1000 * (time.monotonic() - started):.1f} ms after the disable call began")


def test_an_edge_that_starts_later_reads_recent_revocations_from_the_database(settings, sessions, publisher,
                                                                              ports, auth, admin):
    nok = auth.user("mobile")
    control.revoke_sessions(ports, Actor(admin.id, "api"), nok.id)
    late = create_app(settings, publisher=publisher, test_config={"TESTING": True})
    start_revocation_watch(late)
    assert late.test_client().get("/v1/conversations", headers=token_for(late, nok)).status_code == 401
    assert late.test_client().get("/v1/conversations", headers=token_for(late, nok, generation=1)).status_code == 200


def test_the_api_answers_match_the_document(client, app, admin, acme, auth):
    contract, as_admin = _Contract(load_spec()), token_for(app, admin)
    users, one = "/v1/admin/users", "/v1/admin/users/{user_id}"
    contract.check(client.get(users + "?q=acme", headers=as_admin), "get", users)
    contract.check(client.get(users + "?limit=0", headers=as_admin), "get", users, "validation_failed")
    contract.check(client.get(users + "?cursor=nope", headers=as_admin), "get", users, "bad_request")
    made = contract.check(client.post(users, json={"role": "admin", "username": "second", "password": "a long password"},
                                      headers=as_admin), "post", users)
    assert made.status_code == 201
    contract.check(client.post(users, json={"role": "business", "username": "acme", "password": "a long password"},
                               headers=as_admin), "post", users, "conflict")
    contract.check(client.post(users, json={"role": "business", "username": "x", "password": "short"},
                               headers=as_admin), "post", users, "validation_failed")
    contract.check(client.get(f"/v1/admin/users/{acme.id}", headers=as_admin), "get", one)
    contract.check(client.get("/v1/admin/users/999999", headers=as_admin), "get", one, "not_found")
    for action in ("disable", "enable", "revoke-sessions"):
        path = "/v1/admin/users/{user_id}/" + action
        contract.check(client.post(f"/v1/admin/users/{acme.id}/{action}", headers=as_admin), "post", path)
    role = "/v1/admin/users/{user_id}/role"
    contract.check(client.post(f"/v1/admin/users/{acme.id}/role", json={"role": "mobile"}, headers=as_admin),
                   "post", role, "validation_failed")
    contract.check(client.post(f"/v1/admin/users/{admin.id}/role", json={"role": "business"}, headers=as_admin),
                   "post", role, "forbidden")
    password = "/v1/admin/users/{user_id}/password"
    contract.check(client.post(f"/v1/admin/users/{acme.id}/password", json={"password": "a new long password"},
                               headers=as_admin), "post", password)
    audit = "/v1/admin/audit"
    page = contract.check(client.get(audit + "?action=user.&limit=2", headers=as_admin), "get", audit).get_json()
    assert [e["action"] for e in page["items"]] == ["user.password_reset", "user.sessions_revoked"]
    contract.check(client.get(audit + "?since=yesterday", headers=as_admin), "get", audit, "validation_failed")
    disabled = auth.user("business", username="gone", password_hash=hash_password(PASSWORD))
    client.post(f"/v1/admin/users/{disabled.id}/disable", headers=as_admin)
    contract.check(login(client, "gone"), "post", "/v1/auth/login", "account_disabled")


def test_embedded_mode_closes_the_users_sockets_in_process(settings, sessions, publisher, auth, admin):
    """The in-process realtime of embedded mode carries the same control
    message: the hub asks each of the user's sockets to close with 4003."""
    embedded = create_app(settings, publisher=publisher, realtime=InProcessRealtime(),
                          test_config={"TESTING": True})
    start_revocation_watch(embedded)
    res = embedded.extensions["herald"]
    nok, lek = auth.user("mobile"), auth.user("mobile")
    noks, leks = Mailbox(10), Mailbox(10)
    res.hub.attach(nok.id, noks)
    res.hub.attach(lek.id, leks)
    control.disable(res.ports, Actor(admin.id, "api"), nok.id)
    assert noks.close_request == (4003, "account disabled") and leks.close_request is None
    control.revoke_sessions(res.ports, Actor(admin.id, "api"), lek.id)
    assert leks.close_request == (4001, "session revoked")
    assert res.revocations.generation(nok.id) == 1 and res.revocations.refuses(lek.id, 0)
