"""API key and webhook changes are audited: one entry per action, in the
action's transaction, naming the actor, the door and the object — never a
secret, nor the URL beyond its host. A refused action writes none."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import AuditEntry
from tests.integration.webhook_support import WEBHOOK_ENV, pump
from tests.support.webhook_receiver import start_receiver
from workers.webhook_http import RequestsWebhookClient


@pytest.fixture
def env(env):
    return {**env, **WEBHOOK_ENV}


@pytest.fixture
def shop(auth):
    return auth.user("business", username="shop")


@pytest.fixture
def receiver():
    receiver = start_receiver()
    yield receiver
    receiver.close()


def entries(sessions) -> list[AuditEntry]:
    with UnitOfWork(sessions) as uow:
        return list(uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def new_entry(sessions, before: int) -> AuditEntry:
    """The one entry written since `before` entries were there."""
    (entry,) = entries(sessions)[before:]
    return entry


def holds_no(entry: AuditEntry, *secrets: str) -> None:
    said = json.dumps(entry.details)
    assert all(secret not in said for secret in secrets), said


def test_keys_created_and_revoked_by_their_business_and_by_an_admin_are_audited(client, auth, shop, sessions):
    admin, other = auth.user("admin", username="root"), auth.user("business", username="other")
    key = client.post("/v1/api-keys", json={"name": "billing"}, headers=auth.headers(shop)).json
    made = new_entry(sessions, 0)
    assert (made.actor_id, made.action, made.target_type, made.target_id) == (shop.id, "api_key.create", "api_key",
                                                                              str(key["id"]))
    assert made.details == {"via": "api", "address": "127.0.0.1", "owner_id": shop.id, "name": "billing",
                            "prefix": key["prefix"]}
    holds_no(made, key["secret"], key["secret"][len(key["prefix"]):])

    for_shop = client.post("/v1/api-keys", json={"name": "ops", "user_id": shop.id}, headers=auth.headers(admin)).json
    by_admin = new_entry(sessions, 1)
    assert (by_admin.actor_id, by_admin.action, by_admin.details["owner_id"]) == (admin.id, "api_key.create", shop.id)
    holds_no(by_admin, for_shop["secret"])

    assert client.delete(f"/v1/api-keys/{key['id']}", headers=auth.headers(other)).status_code == 404  # not theirs
    assert len(entries(sessions)) == 2
    assert client.delete(f"/v1/api-keys/{key['id']}", headers=auth.headers(shop)).status_code == 204
    revoked = new_entry(sessions, 2)
    assert (revoked.actor_id, revoked.action, revoked.target_id) == (shop.id, "api_key.revoke", str(key["id"]))
    assert client.delete(f"/v1/api-keys/{key['id']}", headers=auth.headers(shop)).status_code == 204
    assert len(entries(sessions)) == 3  # revoking it again changes nothing: no entry
    assert client.delete(f"/v1/api-keys/{for_shop['id']}", headers=auth.headers(admin)).status_code == 204
    assert (new_entry(sessions, 3).actor_id, new_entry(sessions, 3).action) == (admin.id, "api_key.revoke")
    mobile = auth.user("mobile")
    refused = client.post("/v1/api-keys", json={"name": "x", "user_id": mobile.id}, headers=auth.headers(admin))
    assert refused.status_code == 422 and len(entries(sessions)) == 4  # user_not_found


def test_the_command_s_key_is_audited_as_the_system(env, shop, sessions, monkeypatch, capsys):
    from cli.main import main
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["api-key", "create", "--user", str(shop.id), "--name", "ops"]) == 0
    printed = json.loads(capsys.readouterr().out)
    entry = new_entry(sessions, 0)
    assert (entry.actor_id, entry.action, entry.target_id) == (None, "api_key.create", str(printed["id"]))
    assert entry.details == {"via": "cli", "owner_id": shop.id, "name": "ops", "prefix": printed["prefix"]}
    holds_no(entry, printed["secret"])


def test_every_webhook_change_writes_one_entry_without_secret_or_url(client, auth, shop, sessions, receiver, app):
    headers = auth.headers(shop)
    url = receiver.url + "?token=private-query"
    endpoint = client.post("/v1/webhooks", json={"url": url, "events": ["message.status"]}, headers=headers).json
    path, host = f"/v1/webhooks/{endpoint['id']}", f"127.0.0.1:{receiver.port}"
    ping = None

    def act(method, suffix="", **body):
        nonlocal ping
        answer = getattr(client, method)(path + suffix, headers=headers, **({"json": body} if body else {}))
        assert answer.status_code < 300, answer.get_data(as_text=True)
        if suffix == "/test":
            ping = answer.json
        return answer.json if answer.status_code != 204 else None

    created = new_entry(sessions, 0)
    assert (created.actor_id, created.action, created.target_type, created.target_id) == (
        shop.id, "webhook.create", "webhook_endpoint", str(endpoint["id"]))
    assert created.details == {"via": "api", "address": "127.0.0.1", "host": host, "events": ["message.status"]}

    act("patch", events=["message.status", "message.reply"], description="bookings", enabled=False)
    assert new_entry(sessions, 1).details == {"via": "api", "address": "127.0.0.1",
                                              "fields": ["description", "enabled", "events"],
                                              "events": ["message.reply", "message.status"], "enabled": False}
    act("patch", url=receiver.url + "/v2?sig=another-private", enabled=True)
    moved = new_entry(sessions, 2)
    assert (moved.action, moved.details["fields"], moved.details["host"]) == ("webhook.update", ["enabled", "url"], host)
    rotated = act("post", "/rotate-secret")
    assert new_entry(sessions, 3).action == "webhook.secret_rotate"
    act("post", "/test")
    assert (new_entry(sessions, 4).action, new_entry(sessions, 4).details["event_id"]) == ("webhook.ping", ping["id"])
    pump(app.extensions["herald"].ports, RequestsWebhookClient(fail_max=1000))
    act("post", f"/deliveries/{ping['id']}/redeliver")
    again = new_entry(sessions, 5)
    assert (again.action, again.details["event_id"], again.details["event_type"]) == ("webhook.redeliver",
                                                                                       ping["id"], "ping")
    act("delete")
    gone = new_entry(sessions, 6)
    assert (gone.action, gone.target_id, gone.details["host"]) == ("webhook.delete", str(endpoint["id"]), host)
    for entry in entries(sessions):
        assert entry.actor_id == shop.id and entry.target_type == "webhook_endpoint"
        holds_no(entry, endpoint["secret"], rotated["secret"], "private-query", "another-private", "/v2")


def test_refused_webhook_actions_write_no_entry(client, auth, shop, sessions, receiver):
    other = auth.user("business", username="other")
    endpoint = client.post("/v1/webhooks", json={"url": receiver.url, "events": ["message.status"]},
                           headers=auth.headers(shop)).json
    path, theirs = f"/v1/webhooks/{endpoint['id']}", auth.headers(other)
    for answer in (client.patch(path, json={"enabled": False}, headers=theirs), client.delete(path, headers=theirs),
                   client.post(path + "/rotate-secret", headers=theirs), client.post(path + "/test", headers=theirs),
                   client.post(path + "/deliveries/evt_nope/redeliver", headers=theirs),
                   client.post(path + "/deliveries/evt_nope/redeliver", headers=auth.headers(shop))):
        assert answer.status_code == 404
    bad = client.post("/v1/webhooks", json={"url": "ftp://example.com/x", "events": ["message.status"]},
                      headers=theirs)
    assert bad.status_code == 422
    assert [e.action for e in entries(sessions)] == ["webhook.create"]


def test_the_audit_page_offers_the_new_actions(client, auth):
    from tests.integration.test_admin_pages import PASSWORD, log_in
    from usecases.accounts.passwords import hash_password
    auth.user("admin", username="root", password_hash=hash_password(PASSWORD))
    log_in(client)
    page = client.get("/admin/audit").get_data(as_text=True)
    for action in ("api_key.create", "api_key.revoke", "webhook.update", "webhook.secret_rotate", "webhook.redeliver"):
        assert f'<option value="{action}"' in page
    assert '<option value="webhook."' in page
