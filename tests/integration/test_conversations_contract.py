"""Real answers of the conversation endpoints fit web/openapi.yaml: each
status is documented for its operation and each body fits its schema."""

from __future__ import annotations

import pytest

from tests.integration.test_openapi import _Contract
from tests.support.tokens import bearer
from web.blueprints.apidocs import spec as load_spec

BASE = "/v1/conversations/{conversation_id}"


@pytest.fixture(scope="module")
def contract():
    return _Contract(load_spec())


def test_conversation_answers_match_the_document(client, auth, contract):
    owner, friend, other = auth.user(name="Nok"), auth.user(name="Lek"), auth.user()
    hotel, stranger = auth.user("business", username="hotel"), auth.user()
    me, as_friend, as_stranger = auth.headers(owner), auth.headers(friend), auth.headers(stranger)
    check = contract.check

    made = check(client.post("/v1/conversations", json={"kind": "direct", "with": friend.id}, headers=me),
                 "post", "/v1/conversations")
    again = check(client.post("/v1/conversations", json={"kind": "direct", "with": owner.id}, headers=as_friend),
                  "post", "/v1/conversations")
    assert (made.status_code, again.status_code) == (201, 200)
    check(client.post("/v1/conversations", json={"kind": "direct", "with": 10**9}, headers=me),
          "post", "/v1/conversations", "recipient_not_found")
    check(client.post("/v1/conversations", json={"kind": "group"}, headers=me),
          "post", "/v1/conversations", "validation_failed")
    group = check(client.post("/v1/conversations", json={"kind": "group", "title": "Trip", "members": [friend.id]},
                              headers=me), "post", "/v1/conversations").json["id"]
    path = f"/v1/conversations/{group}"

    sent = check(client.post(f"{path}/messages", json={"body": "hi", "client_msg_id": "c1"}, headers=me),
                 "post", f"{BASE}/messages")
    assert sent.status_code == 202
    check(client.post(f"{path}/messages", json={"body": ""}, headers=me), "post", f"{BASE}/messages",
          "validation_failed")
    check(client.post(f"{path}/messages", json={"body": "x"}, headers=as_stranger), "post", f"{BASE}/messages",
          "not_found")
    check(client.get(f"{path}/messages", headers=as_friend), "get", f"{BASE}/messages")
    check(client.get(f"{path}/messages?before=x", headers=as_friend), "get", f"{BASE}/messages", "bad_request")
    check(client.post(f"{path}/read", json={"up_to_seq": 1}, headers=as_friend), "post", f"{BASE}/read")
    check(client.get(path, headers=me), "get", BASE)
    check(client.get(path, headers=as_stranger), "get", BASE, "not_found")
    check(client.get("/v1/conversations?limit=1", headers=me), "get", "/v1/conversations")
    check(client.get("/v1/conversations?cursor=x", headers=me), "get", "/v1/conversations", "bad_request")
    check(client.get("/v1/conversations/unread-count", headers=me), "get", "/v1/conversations/unread-count")
    check(client.get("/v1/conversations"), "get", "/v1/conversations", "unauthenticated")

    members, member = f"{BASE}/members", f"{BASE}/members/{{user_id}}"
    check(client.post(f"{path}/members", json={"user_ids": [other.id]}, headers=me), "post", members)
    check(client.post(f"{path}/members", json={"user_ids": [other.id]}, headers=as_friend), "post", members,
          "forbidden")
    check(client.post(f"{path}/members", json={"user_ids": []}, headers=me), "post", members, "validation_failed")
    check(client.get(f"{path}/members?limit=2", headers=me), "get", members)
    check(client.patch(f"{path}/members/{friend.id}", json={"role": "admin"}, headers=me), "patch", member)
    check(client.patch(f"{path}/members/{owner.id}", json={"role": "member"}, headers=me), "patch", member,
          "last_owner")
    check(client.delete(f"{path}/members/{other.id}", headers=me), "delete", member)
    direct = made.json["id"]
    check(client.post(f"/v1/conversations/{direct}/leave", headers=me), "post", f"{BASE}/leave", "not_a_group")
    check(client.post(f"{path}/archive", headers=me), "post", f"{BASE}/archive")
    check(client.post(f"{path}/unarchive", headers=me), "post", f"{BASE}/unarchive")
    check(client.post(f"/v1/conversations/{direct}/close", headers=me), "post", f"{BASE}/close", "forbidden")
    check(client.post(f"{path}/close", headers=me), "post", f"{BASE}/close")
    check(client.post(f"{path}/messages", json={"body": "x"}, headers=me), "post", f"{BASE}/messages",
          "conversation_closed")
    check(client.post(f"{path}/members", json={"user_ids": [other.id]}, headers=me), "post", members,
          "conversation_closed")
    check(client.post(f"{path}/leave", headers=as_friend), "post", f"{BASE}/leave")

    booking = client.post("/v1/conversations", json={"kind": "direct", "with": owner.id, "context_ref": "b-1"},
                          headers=auth.headers(hotel)).json["id"]
    tokens = f"{BASE}/scoped-tokens"
    token = check(client.post(f"/v1/conversations/{booking}/scoped-tokens", json={"user_id": owner.id},
                              headers=auth.headers(hotel)), "post", tokens)
    check(client.post(f"/v1/conversations/{booking}/scoped-tokens", json={"user_id": hotel.id},
                      headers=auth.headers(hotel)), "post", tokens, "recipient_not_found")
    check(client.post(f"/v1/conversations/{booking}/scoped-tokens", json={"user_id": owner.id}, headers=me),
          "post", tokens, "forbidden")
    scoped = bearer(token.json["access_token"])
    check(client.get(path, headers=scoped), "get", BASE, "not_found")
    check(client.post("/v1/conversations", json={"kind": "direct", "with": friend.id}, headers=scoped),
          "post", "/v1/conversations", "forbidden")
