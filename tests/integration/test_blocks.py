"""Blocks on the real PostgreSQL: the list, and what a block prevents (and does not)."""

from __future__ import annotations

from tests.integration.chat_support import direct, frames, group, say, worker  # noqa: F401
from web.auth.tokens import issue_access_token


def block(client, auth, me, other):
    return client.post("/v1/blocks", json={"user_id": other.id}, headers=auth.headers(me))


def unblock(client, auth, me, other):
    return client.delete(f"/v1/blocks/{other.id}", headers=auth.headers(me))


def send(client, auth, me, conversation, body="hi"):
    return client.post(f"/v1/conversations/{conversation}/messages", json={"body": body}, headers=auth.headers(me))


def test_blocking_and_unblocking_are_idempotent(client, auth):
    me, other = auth.user(), auth.user(name="Somchai")
    first, again = block(client, auth, me, other), block(client, auth, me, other)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json == again.json
    assert (first.json["user_id"], first.json["name"]) == (other.id, "Somchai")
    listed = client.get("/v1/blocks", headers=auth.headers(me)).json
    assert ([b["user_id"] for b in listed["items"]], listed["next_cursor"]) == ([other.id], None)
    assert [unblock(client, auth, me, other).status_code for _ in range(2)] == [204, 204]
    assert client.get("/v1/blocks", headers=auth.headers(me)).json["items"] == []


def test_the_list_pages_newest_first_and_is_the_callers_own(client, auth):
    me, someone = auth.user(), auth.user()
    others = [auth.user() for _ in range(5)]
    for other in others:
        block(client, auth, me, other)
    block(client, auth, someone, me)
    seen, cursor = [], None
    while True:
        page = client.get("/v1/blocks", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                          headers=auth.headers(me)).json
        assert len(page["items"]) <= 2
        seen += [b["user_id"] for b in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [o.id for o in reversed(others)]
    for query in ({"cursor": "nonsense"}, {"limit": 0}, {"limit": 101}):
        answer = client.get("/v1/blocks", query_string=query, headers=auth.headers(me))
        assert (answer.status_code, answer.json["code"]) == (400, "bad_request")


def test_what_cannot_be_blocked(client, auth):
    me, admin = auth.user(), auth.user("admin", username="root")
    myself = client.post("/v1/blocks", json={"user_id": me.id}, headers=auth.headers(me))
    assert (myself.status_code, myself.json["code"]) == (422, "validation_failed")
    for user_id in (10**9, admin.id):
        answer = client.post("/v1/blocks", json={"user_id": user_id}, headers=auth.headers(me))
        assert (answer.status_code, answer.json["code"]) == (422, "user_not_found")
    assert client.post("/v1/blocks", json={"user_id": "x"}, headers=auth.headers(me)).status_code == 422
    assert client.get("/v1/blocks", headers=auth.headers(admin)).status_code == 403
    assert client.get("/v1/blocks").status_code == 401


def test_a_token_scoped_to_a_conversation_cannot_manage_blocks(app, client, auth):
    me, other = auth.user(), auth.user()
    conversation = direct(client, auth, me, other).json["id"]
    token = issue_access_token(app.extensions["herald"].tokens, user_id=me.id, role=me.role, context=conversation)
    answer = client.post("/v1/blocks", json={"user_id": other.id}, headers={"Authorization": f"Bearer {token}"})
    assert (answer.status_code, answer.json["code"]) == (403, "forbidden")


def test_a_blocked_user_cannot_open_a_direct_conversation_with_the_blocker(client, auth):
    blocker, blocked = auth.user(), auth.user()
    block(client, auth, blocker, blocked)
    refused = direct(client, auth, blocked, blocker)
    assert (refused.status_code, refused.json["code"]) == (403, "cannot_message")
    assert "block" not in (refused.json["title"] + refused.json["detail"]).lower()
    unblock(client, auth, blocker, blocked)
    assert direct(client, auth, blocked, blocker).status_code == 201


def test_in_a_direct_conversation_a_block_stops_messages_edits_and_reactions_both_ways(client, auth, publisher):
    blocker, blocked = auth.user(), auth.user()
    conversation = direct(client, auth, blocker, blocked).json["id"]
    mine, theirs = say(client, auth, blocker, conversation), say(client, auth, blocked, conversation)
    block(client, auth, blocker, blocked)
    publisher.jobs.clear()
    for answer in (send(client, auth, blocked, conversation),
                   client.patch(f"/v1/messages/{theirs}", json={"body": "x"}, headers=auth.headers(blocked)),
                   client.put(f"/v1/messages/{mine}/reactions/👍", headers=auth.headers(blocked))):
        assert (answer.status_code, answer.json["code"]) == (403, "cannot_message")
    # The blocker is told plainly: their app can offer to unblock.
    assert send(client, auth, blocker, conversation).json["code"] == "user_blocked"
    assert publisher.jobs == []
    # Taking things back is always allowed.
    assert client.delete(f"/v1/messages/{theirs}", headers=auth.headers(blocked)).status_code == 204
    unblock(client, auth, blocker, blocked)
    assert send(client, auth, blocked, conversation).status_code == 202
    assert send(client, auth, blocker, conversation).status_code == 202


def test_a_blocked_user_cannot_put_the_blocker_in_a_group(client, auth):
    blocker, blocked, friend = auth.user(), auth.user(), auth.user()
    block(client, auth, blocker, blocked)
    created = client.post("/v1/conversations", json={"kind": "group", "title": "x", "members": [blocker.id]},
                          headers=auth.headers(blocked))
    assert (created.status_code, created.json["code"]) == (403, "cannot_message")
    own = group(client, auth, blocked, friend)
    added = client.post(f"/v1/conversations/{own}/members", json={"user_ids": [blocker.id]},
                        headers=auth.headers(blocked))
    assert (added.status_code, added.json["code"]) == (403, "cannot_message")


def test_in_a_group_a_block_changes_nothing(client, auth, sessions, worker):
    """Both stay members and see each other's messages; hiding them is the blocker's client's choice."""
    blocker, blocked, host = auth.user(), auth.user(), auth.user()
    block(client, auth, blocker, blocked)
    conversation = group(client, auth, host, blocker, blocked)  # a third party may add both
    say(client, auth, blocked, conversation, "from the blocked one")
    say(client, auth, blocker, conversation, "from the blocker")
    worker()
    for user in (blocker, blocked):
        bodies = [f["message"]["body"] for f in frames(sessions, user) if f["type"] == "message"]
        assert bodies == ["from the blocked one", "from the blocker"]
