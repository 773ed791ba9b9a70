"""Edits and deletes of chat messages on the real PostgreSQL: who may, when,
and what every member's stream and history show afterwards."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from db.engine import UnitOfWork
from db.models import Message, Outbox, Reaction, StreamEvent
from tests.integration.chat_support import direct, events, frames, group, history, say, worker  # noqa: F401
from web.auth.tokens import issue_access_token


def edit(client, auth, user, message_id, body="fixed"):
    return client.patch(f"/v1/messages/{message_id}", json={"body": body}, headers=auth.headers(user))


def remove(client, auth, user, message_id):
    return client.delete(f"/v1/messages/{message_id}", headers=auth.headers(user))


def test_the_sender_edits_and_every_member_gets_an_edit_event(client, auth, sessions, worker):
    a, b, c = auth.user(), auth.user(), auth.user()
    conversation = group(client, auth, a, b, c)
    message_id = say(client, auth, a, conversation, "dinner at 7")
    answer = edit(client, auth, a, message_id, "dinner at 8")
    assert answer.status_code == 200
    assert (answer.json["body"], answer.json["seq"], answer.json["reactions"]) == ("dinner at 8", 1, [])
    assert answer.json["edited_at"] is not None
    worker()
    for user in (a, b, c):
        [event] = [f for f in frames(sessions, user) if f["type"] == "edit"]
        assert (event["conversation_id"], event["message_id"], event["seq"]) == (conversation, message_id, 1)
        assert (event["body"], event["edited_at"]) == ("dinner at 8", answer.json["edited_at"])
        [item] = history(client, auth, user, conversation)
        assert (item["body"], item["edited_at"]) == ("dinner at 8", answer.json["edited_at"])


def test_edits_of_one_message_get_strictly_later_edited_at(client, auth):
    a, b = auth.user(), auth.user()
    message_id = say(client, auth, a, direct(client, auth, a, b).json["id"])
    stamps = [edit(client, auth, a, message_id, f"v{n}").json["edited_at"] for n in range(5)]
    assert stamps == sorted(set(stamps))


def test_only_the_sender_edits_and_strangers_learn_nothing(client, auth, publisher):
    a, b, stranger = auth.user(), auth.user(), auth.user()
    message_id = say(client, auth, a, direct(client, auth, a, b).json["id"])
    publisher.jobs.clear()
    assert (edit(client, auth, b, message_id).status_code, edit(client, auth, b, message_id).json["code"]) == \
        (403, "not_sender")
    for response in (edit(client, auth, stranger, message_id), edit(client, auth, stranger, 10**9),
                     remove(client, auth, stranger, message_id)):
        assert (response.status_code, response.json["code"]) == (404, "not_found")
    assert publisher.jobs == []


def test_a_member_who_left_can_no_longer_change_their_messages(client, auth):
    a, b, c = auth.user(), auth.user(), auth.user()
    conversation = group(client, auth, a, b, c)
    message_id = say(client, auth, b, conversation)
    assert client.post(f"/v1/conversations/{conversation}/leave", headers=auth.headers(b)).status_code < 300
    assert edit(client, auth, b, message_id).status_code == 404
    assert remove(client, auth, b, message_id).status_code == 404


def test_a_token_scoped_to_another_conversation_sees_no_message(app, client, auth):
    a, b, c = auth.user(), auth.user(), auth.user()
    message_id = say(client, auth, a, direct(client, auth, a, b).json["id"])
    other = direct(client, auth, a, c).json["id"]
    token = issue_access_token(app.extensions["herald"].tokens, user_id=a.id, role=a.role, context=other)
    answer = client.patch(f"/v1/messages/{message_id}", json={"body": "x"},
                          headers={"Authorization": f"Bearer {token}"})
    assert (answer.status_code, answer.json["code"]) == (404, "not_found")


def test_one_way_messages_cannot_be_edited_or_deleted(client, auth):
    business, mobile, stranger = auth.user("business"), auth.user(), auth.user()
    sent = client.post("/v1/messages", json={"to": [mobile.id], "body": "Your code is 1234"},
                       headers=auth.headers(business)).json["id"]
    for user in (business, mobile):
        for response in (edit(client, auth, user, sent), remove(client, auth, user, sent)):
            assert (response.status_code, response.json["code"]) == (403, "message_read_only")
    assert edit(client, auth, stranger, sent).status_code == 404


def test_the_edit_window_closes(client, auth, sessions, settings):
    a, b = auth.user(), auth.user()
    message_id = say(client, auth, a, direct(client, auth, a, b).json["id"])
    with UnitOfWork(sessions) as uow:
        too_old = datetime.now(timezone.utc) - timedelta(seconds=settings.edit_window_seconds + 1)
        uow.session.execute(update(Message).where(Message.id == message_id).values(created_at=too_old))
        uow.commit()
    answer = edit(client, auth, a, message_id)
    assert (answer.status_code, answer.json["code"]) == (409, "edit_window_passed")
    assert remove(client, auth, a, message_id).status_code == 204  # deleting has no window


def test_a_body_is_validated(client, auth):
    a, b = auth.user(), auth.user()
    message_id = say(client, auth, a, direct(client, auth, a, b).json["id"])
    for body in ({"body": ""}, {"body": "x" * 10_001}, {}, {"body": "x", "extra": 1}):
        answer = client.patch(f"/v1/messages/{message_id}", json=body, headers=auth.headers(a))
        assert (answer.status_code, answer.json["code"]) == (422, "validation_failed")


def test_deleting_leaves_a_tombstone_once_and_tells_every_member_once(client, auth, sessions, worker):
    a, b, c = auth.user(), auth.user(), auth.user()
    conversation = group(client, auth, a, b, c)
    message_id = say(client, auth, b, conversation, "secret plan")
    client.put(f"/v1/messages/{message_id}/reactions/👍", headers=auth.headers(c))
    assert [remove(client, auth, b, message_id).status_code for _ in range(2)] == [204, 204]
    worker()
    for user in (a, b, c):
        [event] = [f for f in frames(sessions, user) if f["type"] == "delete"]
        assert (event["message_id"], event["seq"], event["deleted_by"]) == (message_id, 1, b.id)
        [item] = history(client, auth, user, conversation)
        assert (item["id"], item["seq"], item["body"], item["deleted"], item["reactions"]) == \
            (message_id, 1, None, True, [])
    answer = edit(client, auth, b, message_id)
    assert (answer.status_code, answer.json["code"]) == (409, "message_deleted")
    with UnitOfWork(sessions) as uow:
        assert uow.session.get(Message, message_id).body == ""
        assert uow.session.scalars(select(Reaction)).all() == []


def test_a_deleted_text_is_nowhere_to_be_found(client, auth, sessions, worker):
    """Not in history, not in any replayed frame (edits included), not in a stored event or job."""
    a, b = auth.user(), auth.user()
    conversation = direct(client, auth, a, b).json["id"]
    message_id = say(client, auth, a, conversation, "first draft")
    edit(client, auth, a, message_id, "regrettable words")
    worker()
    remove(client, auth, a, message_id)
    worker()
    for user in (a, b):
        replayed = json.dumps(frames(sessions, user), ensure_ascii=False)
        assert "regrettable" not in replayed and "first draft" not in replayed
        assert [f["type"] for f in frames(sessions, user)][-2:] == ["edit", "delete"]
    with UnitOfWork(sessions) as uow:
        stored = json.dumps([e.payload for e in uow.session.scalars(select(StreamEvent))] +
                            [o.args for o in uow.session.scalars(select(Outbox))], ensure_ascii=False)
    assert "regrettable" not in stored


def test_group_owners_and_admins_delete_others_messages_members_do_not(client, auth, sessions, worker):
    owner, admin, member, other = auth.user(), auth.user(), auth.user(), auth.user()
    conversation = group(client, auth, owner, admin, member, other)
    client.patch(f"/v1/conversations/{conversation}/members/{admin.id}", json={"role": "admin"},
                 headers=auth.headers(owner))
    first, second = say(client, auth, other, conversation), say(client, auth, other, conversation)
    refused = remove(client, auth, member, first)
    assert (refused.status_code, refused.json["code"]) == (403, "not_sender")
    assert remove(client, auth, admin, first).status_code == 204
    assert remove(client, auth, owner, second).status_code == 204
    assert edit(client, auth, owner, second).json["code"] == "not_sender"  # moderators delete, never rewrite
    worker()
    deleted_by = [e.payload["deleted_by"] for e in events(sessions, member, "delete")]
    assert deleted_by == [admin.id, owner.id]


def test_in_a_direct_conversation_nobody_deletes_the_other_ones_messages(client, auth):
    a, b = auth.user(), auth.user()
    message_id = say(client, auth, a, direct(client, auth, a, b).json["id"])
    assert remove(client, auth, b, message_id).json["code"] == "not_sender"
