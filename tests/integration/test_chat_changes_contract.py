"""Real answers of the edit, delete, reaction and block endpoints match web/openapi.yaml."""

from __future__ import annotations

from urllib.parse import quote

from tests.integration.chat_support import direct, group, say
from tests.integration.test_openapi import _Contract, spec  # noqa: F401  (the fixture, reused)

MESSAGE, REACTION = "/v1/messages/{message_id}", "/v1/messages/{message_id}/reactions/{emoji}"
BLOCKS, BLOCK = "/v1/blocks", "/v1/blocks/{user_id}"


def test_edit_and_delete_answers_match_the_document(client, auth, spec):
    contract = _Contract(spec)
    a, b, stranger, business = auth.user(), auth.user(), auth.user(), auth.user("business")
    message_id = say(client, auth, a, direct(client, auth, a, b).json["id"])
    url = f"/v1/messages/{message_id}"
    as_a, as_b = auth.headers(a), auth.headers(b)
    contract.check(client.patch(url, json={"body": "fixed"}, headers=as_a), "patch", MESSAGE)
    contract.check(client.patch(url, json={"body": "x"}, headers=as_b), "patch", MESSAGE, "not_sender")
    contract.check(client.patch(url, json={"body": ""}, headers=as_a), "patch", MESSAGE, "validation_failed")
    contract.check(client.patch(url, data="{", content_type="application/json", headers=as_a), "patch", MESSAGE,
                   "bad_request")
    contract.check(client.patch(url, data="x", headers=as_a), "patch", MESSAGE, "unsupported_media_type")
    contract.check(client.patch(url, json={"body": "x"}, headers=auth.headers(stranger)), "patch", MESSAGE,
                   "not_found")
    contract.check(client.patch(url, json={"body": "x"}), "patch", MESSAGE, "unauthenticated")
    contract.check(client.delete(url, headers=as_b), "delete", MESSAGE, "not_sender")
    contract.check(client.delete(url, headers=as_a), "delete", MESSAGE)
    contract.check(client.patch(url, json={"body": "x"}, headers=as_a), "patch", MESSAGE, "message_deleted")
    oneway = client.post("/v1/messages", json={"to": [b.id], "body": "hi"}, headers=auth.headers(business)).json
    contract.check(client.delete(f"/v1/messages/{oneway['id']}", headers=as_b), "delete", MESSAGE,
                   "message_read_only")


def test_reaction_answers_match_the_document(client, auth, spec):
    contract = _Contract(spec)
    a, b, c, stranger = auth.user(), auth.user(), auth.user(), auth.user()
    message_id = say(client, auth, a, group(client, auth, a, b, c))
    url = f"/v1/messages/{message_id}/reactions/"
    as_b = auth.headers(b)
    for _ in range(2):
        contract.check(client.put(url + quote("👍"), headers=as_b), "put", REACTION)
    contract.check(client.put(url + "nope", headers=as_b), "put", REACTION, "invalid_emoji")
    contract.check(client.delete(url + "nope", headers=as_b), "delete", REACTION, "invalid_emoji")
    contract.check(client.put(url + ":x:", headers=auth.headers(stranger)), "put", REACTION, "not_found")
    contract.check(client.delete(url + quote("👍"), headers=as_b), "delete", REACTION)
    client.delete(f"/v1/messages/{message_id}", headers=auth.headers(a))
    contract.check(client.put(url + ":x:", headers=as_b), "put", REACTION, "message_deleted")


def test_block_answers_match_the_document(client, auth, spec):
    contract = _Contract(spec)
    me, other, admin = auth.user(), auth.user(), auth.user("admin", username="boss")
    mine = auth.headers(me)
    for _ in range(2):
        contract.check(client.post(BLOCKS, json={"user_id": other.id}, headers=mine), "post", BLOCKS)
    contract.check(client.post(BLOCKS, json={"user_id": me.id}, headers=mine), "post", BLOCKS, "validation_failed")
    contract.check(client.post(BLOCKS, json={"user_id": 10**9}, headers=mine), "post", BLOCKS, "user_not_found")
    contract.check(client.post(BLOCKS, json={}, headers=auth.headers(admin)), "post", BLOCKS, "forbidden")
    contract.check(client.get(BLOCKS, headers=mine), "get", BLOCKS)
    contract.check(client.get(BLOCKS + "?cursor=bogus", headers=mine), "get", BLOCKS, "bad_request")
    contract.check(client.delete(f"/v1/blocks/{other.id}", headers=mine), "delete", BLOCK)
    contract.check(client.delete(f"/v1/blocks/{other.id}"), "delete", BLOCK, "unauthenticated")
