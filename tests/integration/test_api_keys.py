"""API keys (docs/decisions.md D75–D77): created by a business user or an
admin for one, shown once, stored as a hash, acting as their business user
on the sending and status endpoints only, revoked at once on every edge
process, their last use written at most once a minute."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import ApiKey
from tests.support.statement_counts import counting_statements
from tests.support.tokens import bearer
from web import create_app


UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


@pytest.fixture
def shop(auth):
    return auth.user("business", username="shop")


def make_key(client, headers, name="billing", **extra) -> dict:
    answer = client.post("/v1/api-keys", json={"name": name, **extra}, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def stored(sessions, key_id) -> ApiKey:
    with UnitOfWork(sessions) as uow:
        return uow.session.get(ApiKey, key_id)


def test_a_key_is_shown_once_and_stored_only_as_its_hash(client, auth, shop, sessions):
    answer = client.post("/v1/api-keys", json={"name": "billing server"}, headers=auth.headers(shop))
    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    key = answer.json
    assert key["secret"].startswith("hk_") and len(key["secret"]) > 40
    assert key["prefix"] == key["secret"][:11] and key["name"] == "billing server" and key["user_id"] == shop.id
    assert answer.headers["Location"] == f"/v1/api-keys/{key['id']}"
    row = stored(sessions, key["id"])
    assert row.secret_hash == hashlib.sha256(key["secret"].encode()).hexdigest()
    listed = client.get("/v1/api-keys", headers=auth.headers(shop)).json
    assert listed["items"] == [{k: v for k, v in key.items() if k != "secret"}]
    assert key["secret"] not in str(listed)


def test_a_key_sends_and_reads_status_as_its_business(client, auth, shop, publisher):
    somchai = auth.user("mobile")
    key = bearer(make_key(client, auth.headers(shop))["secret"])
    sent = client.post("/v1/messages", json={"to": [somchai.id], "body": "your parcel"}, headers=key)
    assert sent.status_code == 202
    status = client.get(f"/v1/messages/{sent.json['id']}", headers=key)
    assert status.status_code == 200 and status.json["sender_id"] == shop.id
    assert client.get("/v1/messages", headers=key).json["items"][0]["id"] == sent.json["id"]
    assert client.get(f"/v1/messages/{sent.json['id']}/recipients", headers=key).status_code == 200


def test_a_key_reaches_no_route_but_those_made_for_it(app, client, auth, shop, sessions):
    """Deny by default: every other route of the url_map answers 403 to a key."""
    from web.auth.scope import API_KEY_ENDPOINTS
    key_view = make_key(client, auth.headers(shop))
    key = bearer(key_view["secret"])
    values = {"conversation_id": 1, "message_id": 1, "user_id": shop.id, "emoji": "x", "device_id": 1,
              "letter_id": 1, "filename": "index.html", "key_id": key_view["id"]}
    problems, tried = [], 0
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if rule.endpoint in API_KEY_ENDPOINTS or rule.endpoint in ("static", "apidocs.asset"):
                continue
            path = rule.rule
            for name, value in values.items():
                for converter in ("int:", "path:", ""):
                    path = path.replace(f"<{converter}{name}>", str(value))
            path = re.sub(r"<int:[^>]+>", "1", re.sub(r"<(?:path:)?[^:>]+>", "x", path))  # routes added later
            upgrade = UPGRADE if rule.endpoint == "ws.socket" else {}
            answer = client.open(path, method=method, json={} if method != "GET" else None,
                                 headers={**key, **upgrade})
            tried += 1
            got = (answer.status_code, (answer.get_json(silent=True) or {"code": answer.mimetype}).get("code"))
            if got not in {(403, "forbidden"), (403, "text/html")}:
                problems.append(f"{method} {path}: expected 403 forbidden for an API key, got {got}")
    assert not problems, "\n".join(problems)
    assert tried >= 40
    assert stored(sessions, key_view["id"]).revoked_at is None  # DELETE with the key itself was refused


def test_revoking_refuses_the_key_at_once_on_every_edge_process(client, auth, shop, settings, sessions, publisher):
    """Two apps stand for two edge processes sharing Redis: the second has the key cached."""
    somchai = auth.user("mobile")
    key_view = make_key(client, auth.headers(shop))
    key = bearer(key_view["secret"])
    other_edge = create_app(settings, publisher=publisher, test_config={"TESTING": True}).test_client()
    send = {"to": [somchai.id], "body": "hi"}
    assert other_edge.post("/v1/messages", json=send, headers=key).status_code == 202
    assert client.delete(f"/v1/api-keys/{key_view['id']}", headers=auth.headers(shop)).status_code == 204
    for edge in (other_edge, client):
        refused = edge.post("/v1/messages", json=send, headers=key)
        assert (refused.status_code, refused.json["code"]) == (401, "invalid_token")
    assert client.get("/v1/api-keys", headers=auth.headers(shop)).json["items"] == []
    # Repeating the DELETE answers the same (a revocation that could not reach Redis is repeated).
    assert client.delete(f"/v1/api-keys/{key_view['id']}", headers=auth.headers(shop)).status_code == 204


def test_a_revocation_is_not_undone_by_a_lookup_that_read_the_key_before_it(app, auth, shop):
    """The cache is filled only where nothing is: a late fill cannot bring a revoked key back."""
    from pipeline.api_keys import KeyHolder, encode_entry
    cache = app.extensions["herald"].ports.key_cache
    cache.revoke("h" * 64)
    cache.fill("h" * 64, encode_entry(KeyHolder(1, shop.id, "business")), 300)
    assert cache.lookup("h" * 64, 60)[0] == "none"


def test_a_cached_key_costs_no_statement_and_its_last_use_is_written_once_a_minute(client, auth, shop, sessions):
    somchai = auth.user("mobile")
    key_view = make_key(client, auth.headers(shop))
    key = bearer(key_view["secret"])
    send = {"to": [somchai.id], "body": "hi"}
    with counting_statements() as counter:
        assert client.post("/v1/messages", json=send, headers=key).status_code == 202
    counter.show("first use of a key")
    assert counter.count == 5  # the key's UPDATE … RETURNING (its last use), then the send's four
    first_use = stored(sessions, key_view["id"]).last_used_at
    assert first_use is not None
    with counting_statements() as counter:
        assert client.post("/v1/messages", json=send, headers=key).status_code == 202
    counter.show("a cached key")
    assert (counter.count, counter.commits) == (4, 1)  # exactly what a token costs (test_edge_costs)
    assert stored(sessions, key_view["id"]).last_used_at == first_use
    listed = client.get("/v1/api-keys", headers=auth.headers(shop)).json["items"][0]
    assert listed["last_used_at"] is not None


def test_an_unknown_or_malformed_key_is_refused(client):
    for token in ("hk_nope", "hk_" + "a" * 43):
        answer = client.post("/v1/messages", json={"to": [1], "body": "x"}, headers=bearer(token))
        assert (answer.status_code, answer.json["code"]) == (401, "invalid_token")


def test_an_admin_creates_lists_and_revokes_keys_for_a_business_user(client, auth, shop):
    admin = auth.user("admin", username="root")
    made = make_key(client, auth.headers(admin), user_id=shop.id)
    assert made["user_id"] == shop.id
    assert [k["id"] for k in client.get(f"/v1/api-keys?user_id={shop.id}", headers=auth.headers(admin))
            .json["items"]] == [made["id"]]
    assert [k["id"] for k in client.get("/v1/api-keys", headers=auth.headers(shop)).json["items"]] == [made["id"]]
    assert client.delete(f"/v1/api-keys/{made['id']}", headers=auth.headers(admin)).status_code == 204


# (who, method, path, body) → (status, code); {shop}/{key} are filled in.
REFUSALS = [
    ("mobile", "POST", "/v1/api-keys", {"name": "x"}, 403, "forbidden"),
    ("mobile", "GET", "/v1/api-keys", None, 403, "forbidden"),
    ("mobile", "DELETE", "/v1/api-keys/{key}", None, 403, "forbidden"),
    ("rival", "GET", "/v1/api-keys?user_id={shop}", None, 403, "forbidden"),
    ("rival", "POST", "/v1/api-keys", {"name": "x", "user_id": "{shop}"}, 403, "forbidden"),
    ("rival", "DELETE", "/v1/api-keys/{key}", None, 404, "not_found"),
    ("nobody", "GET", "/v1/api-keys", None, 401, "unauthenticated"),
    ("nobody", "POST", "/v1/api-keys", {"name": "x"}, 401, "unauthenticated"),
    ("admin", "POST", "/v1/api-keys", {"name": "x"}, 422, "validation_failed"),
    ("admin", "GET", "/v1/api-keys", None, 422, "validation_failed"),
    ("admin", "POST", "/v1/api-keys", {"name": "x", "user_id": "{mobile}"}, 422, "user_not_found"),
    ("admin", "DELETE", "/v1/api-keys/999999", None, 404, "not_found"),
    ("shop", "POST", "/v1/api-keys", {"name": ""}, 422, "validation_failed"),
    ("shop", "POST", "/v1/api-keys", {"name": "x", "scopes": []}, 422, "validation_failed"),
    ("shop", "GET", "/v1/api-keys?user_id=me", None, 400, "bad_request"),
]


def test_the_authorization_table(client, auth, shop, sessions):
    people = {"shop": shop, "rival": auth.user("business"), "mobile": auth.user("mobile"),
              "admin": auth.user("admin", username="root")}
    key = make_key(client, auth.headers(shop))
    fill = {"{shop}": str(shop.id), "{key}": str(key["id"]), "{mobile}": str(people["mobile"].id)}
    problems = []
    for who, method, path, body, status, code in REFUSALS:
        for mark, value in fill.items():
            path = path.replace(mark, value)
        if body:
            body = {k: int(fill[v]) if isinstance(v, str) and v in fill else v for k, v in body.items()}
        headers = auth.headers(people[who]) if who in people else {}
        answer = client.open(path, method=method, json=body, headers=headers)
        got = (answer.status_code, (answer.get_json(silent=True) or {}).get("code"))
        if got != (status, code):
            problems.append(f"{who} {method} {path}: expected {(status, code)}, got {got}")
    assert not problems, "\n".join(problems)
    # Nobody saw the shop's key, and it still works.
    rival_view = client.get("/v1/api-keys", headers=auth.headers(people["rival"])).json
    assert rival_view["items"] == []
    assert stored(sessions, key["id"]).revoked_at is None


def test_a_business_has_at_most_twenty_keys_in_use(client, auth, shop):
    headers = auth.headers(shop)
    keys = [make_key(client, headers, name=f"k{n}") for n in range(20)]
    refused = client.post("/v1/api-keys", json={"name": "one more"}, headers=headers)
    assert (refused.status_code, refused.json["code"]) == (409, "api_key_limit_reached")
    client.delete(f"/v1/api-keys/{keys[0]['id']}", headers=headers)
    assert client.post("/v1/api-keys", json={"name": "one more"}, headers=headers).status_code == 201
    page = client.get("/v1/api-keys?limit=15", headers=headers).json
    rest = client.get(f"/v1/api-keys?cursor={page['next_cursor']}", headers=headers).json
    assert len(page["items"]) + len(rest["items"]) == 20 and rest["next_cursor"] is None


def test_the_command_creates_a_key_for_a_business_user(env, auth, shop, sessions, monkeypatch, capsys):
    import json

    from cli.main import main
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["api-key", "create", "--user", str(shop.id), "--name", "ops"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["secret"].startswith("hk_") and printed["name"] == "ops" and printed["user_id"] == shop.id
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalar(select(ApiKey.user_id).where(ApiKey.id == printed["id"])) == shop.id
    mobile = auth.user("mobile")
    with pytest.raises(SystemExit, match="user_not_found"):
        main(["api-key", "create", "--user", str(mobile.id), "--name", "ops"])


def test_real_answers_match_the_document(client, auth, shop):
    """The key and sent-list endpoints' answers, checked against web/openapi.yaml."""
    from tests.integration.test_openapi import _Contract
    from web.blueprints.apidocs import spec
    contract = _Contract(spec())
    mobile, admin = auth.user("mobile"), auth.user("admin", username="root")
    as_shop, as_admin = auth.headers(shop), auth.headers(admin)
    keys, key_path = "/v1/api-keys", "/v1/api-keys/{key_id}"
    made = contract.check(client.post(keys, json={"name": "billing"}, headers=as_shop), "post", keys).json
    contract.check(client.post(keys, json={"name": "x"}, headers=auth.headers(mobile)), "post", keys, "forbidden")
    contract.check(client.post(keys, json={"name": "x"}, headers=as_admin), "post", keys, "validation_failed")
    contract.check(client.post(keys, json={"name": "x", "user_id": mobile.id}, headers=as_admin),
                   "post", keys, "user_not_found")
    contract.check(client.post(keys, json={"name": "x"}), "post", keys, "unauthenticated")
    contract.check(client.get(keys, headers=as_shop), "get", keys)
    contract.check(client.get(f"{keys}?user_id=x", headers=as_shop), "get", keys, "bad_request")
    key = bearer(made["secret"])
    contract.check(client.get(keys, headers=key), "get", keys, "forbidden")

    send, one = "/v1/messages", "/v1/messages/{message_id}"
    sent = contract.check(client.post(send, json={"to": [mobile.id], "body": "hi"}, headers=key), "post", send)
    contract.check(client.get(send, headers=key), "get", send)
    contract.check(client.get(f"{send}?status=lost", headers=key), "get", send, "validation_failed")
    contract.check(client.get(f"{send}?recipient=%2B1", headers=key), "get", send, "invalid_phone_number")
    contract.check(client.get(f"{send}?cursor=x", headers=key), "get", send, "bad_request")
    contract.check(client.get(send, headers=auth.headers(mobile)), "get", send, "forbidden")
    contract.check(client.get(f"/v1/messages/{sent.json['id']}", headers=key), "get", one)
    recipients = "/v1/messages/{message_id}/recipients"
    contract.check(client.get(f"/v1/messages/{sent.json['id']}/recipients", headers=key), "get", recipients)
    contract.check(client.get(f"/v1/messages/{sent.json['id']}/recipients?limit=0", headers=key),
                   "get", recipients, "bad_request")
    contract.check(client.get(f"/v1/messages/{sent.json['id']}/recipients", headers=auth.headers(auth.user("business"))),
                   "get", recipients, "not_found")

    contract.check(client.delete(f"/v1/api-keys/{made['id']}", headers=auth.headers(auth.user("business"))),
                   "delete", key_path, "not_found")
    contract.check(client.delete(f"/v1/api-keys/{made['id']}", headers=key), "delete", key_path, "forbidden")
    contract.check(client.delete(f"/v1/api-keys/{made['id']}", headers=as_shop), "delete", key_path)
    contract.check(client.post(send, json={"to": [mobile.id], "body": "hi"}, headers=key), "post", send,
                   "invalid_token")
    for _ in range(19):
        client.post(keys, json={"name": "more"}, headers=as_shop)
    contract.check(client.post(keys, json={"name": "x"}, headers=as_shop), "post", keys)
    contract.check(client.post(keys, json={"name": "x"}, headers=as_shop), "post", keys, "api_key_limit_reached")


def test_without_redis_keys_are_read_from_the_database_and_a_revoke_says_to_repeat_it(
        app, client, auth, shop, sessions):
    """Redis away (D76): lookups fall back to the database; a DELETE commits the
    revocation but answers 503, since the other processes' cache was not told."""
    import dataclasses

    import redis

    from realtime import RedisKeyCache
    somchai = auth.user("mobile")
    key_view = make_key(client, auth.headers(shop))
    key = bearer(key_view["secret"])
    res = app.extensions["herald"]
    nowhere = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_timeout=0.2, socket_connect_timeout=0.2)
    res.ports = dataclasses.replace(res.ports, key_cache=RedisKeyCache(nowhere))
    assert client.post("/v1/messages", json={"to": [somchai.id], "body": "hi"}, headers=key).status_code == 202
    answer = client.delete(f"/v1/api-keys/{key_view['id']}", headers=auth.headers(shop))
    assert (answer.status_code, answer.json["code"]) == (503, "dependency_unavailable")
    assert stored(sessions, key_view["id"]).revoked_at is not None
    refused = client.post("/v1/messages", json={"to": [somchai.id], "body": "hi"}, headers=key)
    assert (refused.status_code, refused.json["code"]) == (401, "invalid_token")


def test_a_disabled_business_s_keys_are_refused_at_once_and_work_again_when_enabled(
        app, client, auth, shop, settings, sessions, publisher):
    """A cached key of a user an admin disables is refused on the next request
    (the edge's revocation list, D85); enabling lets it through again."""
    from usecases.accounts import account_control
    from usecases.operations.audit import Actor
    from web.app import start_revocation_watch
    start_revocation_watch(app)
    ports = app.extensions["herald"].ports
    admin = auth.user("admin", username="ops")
    somchai = auth.user("mobile")
    key = bearer(make_key(client, auth.headers(shop))["secret"])
    send = {"to": [somchai.id], "body": "your parcel"}
    assert client.post("/v1/messages", json=send, headers=key).status_code == 202  # now cached
    account_control.disable(ports, Actor(admin.id, "api"), shop.id)
    refused = client.post("/v1/messages", json=send, headers=key)
    assert (refused.status_code, refused.json["code"]) == (403, "account_disabled")
    account_control.enable(ports, Actor(admin.id, "api"), shop.id)
    assert client.post("/v1/messages", json=send, headers=key).status_code == 202


def test_a_key_of_a_user_disabled_long_ago_is_refused_by_the_database(client, auth, shop, settings, sessions,
                                                                       publisher):
    """An edge whose revocation list no longer names the user (it started
    later, or the revocation is older than its horizon) reads the key from
    the database, which asks for an enabled business user."""
    from datetime import datetime, timezone
    from db.models import User
    somchai = auth.user("mobile")
    key = bearer(make_key(client, auth.headers(shop))["secret"])  # never used: not cached
    with UnitOfWork(sessions) as uow:
        uow.session.get(User, shop.id).disabled_at = datetime.now(timezone.utc)
        uow.commit()
    fresh_edge = create_app(settings, publisher=publisher, test_config={"TESTING": True}).test_client()
    refused = fresh_edge.post("/v1/messages", json={"to": [somchai.id], "body": "hi"}, headers=key)
    assert (refused.status_code, refused.json["code"]) == (401, "invalid_token")
