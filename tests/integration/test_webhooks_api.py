"""The webhook endpoints API: create (secret once), list, show, change,
delete, rotate, ping, attempts and redelivery — and who may touch what."""

from __future__ import annotations

import pytest

from tests.integration.webhook_support import WEBHOOK_ENV
from tests.support.webhook_receiver import start_receiver


@pytest.fixture
def env(env):
    return {**env, **WEBHOOK_ENV}


@pytest.fixture
def business(auth):
    return auth.user("business", username="acme", name="Acme")


@pytest.fixture
def receiver():
    receiver = start_receiver()
    yield receiver
    receiver.close()


def create(client, auth, owner, url, **body):
    return client.post("/v1/webhooks", json={"url": url, "events": ["message.status"], **body},
                       headers=auth.headers(owner))


def test_an_endpoint_is_created_with_its_secret_shown_once(client, auth, business, receiver):
    answer = create(client, auth, business, receiver.url, description="bookings")
    assert answer.status_code == 201
    endpoint = answer.json
    assert endpoint["secret"].startswith("whsec_") and len(endpoint["secret"]) > 30
    assert answer.headers["Location"] == f"/v1/webhooks/{endpoint['id']}"
    assert (endpoint["url"], endpoint["events"], endpoint["enabled"], endpoint["description"]) == (
        receiver.url, ["message.status"], True, "bookings")
    shown = client.get(f"/v1/webhooks/{endpoint['id']}", headers=auth.headers(business)).json
    assert "secret" not in shown and shown["disabled_reason"] is None and shown["oldest_pending_event"] is None
    listed = client.get("/v1/webhooks", headers=auth.headers(business)).json["items"]
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]


def test_change_disable_enable_and_delete(client, auth, business, receiver):
    endpoint = create(client, auth, business, receiver.url).json
    path, headers = f"/v1/webhooks/{endpoint['id']}", auth.headers(business)
    changed = client.patch(path, json={"events": ["message.status", "message.reply"], "enabled": False},
                           headers=headers)
    assert changed.status_code == 200
    assert changed.json["events"] == ["message.reply", "message.status"]
    assert (changed.json["enabled"], changed.json["disabled_reason"]) == (False, "disabled by its owner")
    enabled = client.patch(path, json={"enabled": True}, headers=headers).json
    assert (enabled["enabled"], enabled["disabled_reason"]) == (True, None)
    assert client.delete(path, headers=headers).status_code == 204
    assert client.get(path, headers=headers).status_code == 404


def test_rotating_gives_a_new_secret_and_keeps_the_old_one_for_a_while(client, auth, business, receiver):
    endpoint = create(client, auth, business, receiver.url).json
    rotated = client.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret", headers=auth.headers(business))
    assert rotated.status_code == 200
    assert rotated.json["secret"] != endpoint["secret"] and rotated.json["previous_secret_expires_at"]


@pytest.mark.parametrize("body, code", [
    ({"url": "ftp://example.com/x", "events": ["message.status"]}, "webhook_url_refused"),
    ({"url": "https://user:pw@example.com/x", "events": ["message.status"]}, "webhook_url_refused"),
    ({"url": "https://no-such-host.invalid/x", "events": ["message.status"]}, "webhook_url_refused"),
    ({"url": "https://example.com/x", "events": []}, "validation_failed"),
    ({"url": "https://example.com/x", "events": ["message.sent"]}, "validation_failed"),
    ({"url": "https://example.com/x", "events": ["message.status"], "secret": "mine"}, "validation_failed"),
])
def test_bad_input_is_refused_and_changes_nothing(client, auth, business, body, code):
    answer = client.post("/v1/webhooks", json=body, headers=auth.headers(business))
    assert answer.status_code == 422 and answer.json["code"] == code
    assert client.get("/v1/webhooks", headers=auth.headers(business)).json["items"] == []


def test_private_addresses_and_plain_http_are_refused_unless_allowed(settings, sessions, auth, business):
    from dataclasses import replace

    from web.app import create_app
    from tests.conftest import RecordingPublisher

    strict = replace(settings, webhook_allow_private=False, webhook_allow_http=False)
    app = create_app(strict, publisher=RecordingPublisher(), test_config={"TESTING": True})
    client = app.test_client()
    for url in ("https://127.0.0.1/x", "https://10.1.2.3/x", "https://169.254.169.254/latest/meta-data",
                "https://[::1]/x", "https://localhost/x", "http://example.com/x"):
        answer = client.post("/v1/webhooks", json={"url": url, "events": ["message.status"]},
                             headers=auth.headers(business))
        assert (answer.status_code, answer.json["code"]) == (422, "webhook_url_refused"), url


def test_only_business_users_manage_webhooks(client, auth):
    mobile = auth.user("mobile")
    answer = client.get("/v1/webhooks", headers=auth.headers(mobile))
    assert (answer.status_code, answer.json["code"]) == (403, "forbidden")
    assert client.get("/v1/webhooks").status_code == 401


def test_another_business_can_neither_see_nor_touch_an_endpoint(client, auth, business, receiver, sessions):
    """The authorization table: every webhook route, as a stranger business: 404, nothing changed."""
    endpoint = create(client, auth, business, receiver.url).json
    ping = client.post(f"/v1/webhooks/{endpoint['id']}/test", headers=auth.headers(business)).json
    stranger = auth.user("business", username="rival", name="Rival")
    base = f"/v1/webhooks/{endpoint['id']}"
    routes = [("get", base, None), ("patch", base, {"enabled": False}), ("delete", base, None),
              ("post", f"{base}/rotate-secret", None), ("post", f"{base}/test", None),
              ("get", f"{base}/deliveries", None), ("post", f"{base}/deliveries/{ping['id']}/redeliver", None)]
    for method, path, body in routes:
        answer = getattr(client, method)(path, json=body, headers=auth.headers(stranger))
        assert (answer.status_code, answer.json["code"]) == (404, "not_found"), (method, path)
    assert client.get("/v1/webhooks", headers=auth.headers(stranger)).json["items"] == []
    mine = client.get(base, headers=auth.headers(business)).json
    assert mine["enabled"] and mine["updated_at"] == endpoint["updated_at"]
    assert mine["oldest_pending_event"]["id"] == ping["id"]  # the stranger's ping never went in
    # every route of the blueprint is in the table above
    rules = {r.rule for r in client.application.url_map.iter_rules() if r.rule.startswith("/v1/webhooks/")}
    templated = {p.replace(ping["id"], "<event_id>").replace(base, "/v1/webhooks/<int:endpoint_id>")
                 for _, p, _ in routes}
    assert templated == rules
