"""The conversation list and the unread badge on the real PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import update

from db.engine import UnitOfWork
from db.models import Message
from tests.support.chat import direct, group, say


def listing(client, auth, user, query: str = "") -> dict:
    answer = client.get(f"/v1/conversations{query}", headers=auth.headers(user))
    assert answer.status_code == 200, answer.json
    return answer.json


def delete_message(sessions, message_id: int) -> None:
    with UnitOfWork(sessions) as uow:
        uow.session.execute(update(Message).where(Message.id == message_id)
                            .values(deleted_at=datetime.now(timezone.utc)))
        uow.commit()


def test_conversations_are_listed_by_last_activity_with_a_preview_and_unread_count(client, auth):
    me, ann, bob = auth.user(name="Me"), auth.user(name="Ann"), auth.user(name="Bob")
    with_ann = direct(client, auth, me, ann)
    with_bob = direct(client, auth, me, bob)
    trip = group(client, auth, me, [ann, bob])  # newest, but no message yet
    say(client, auth, ann, with_ann, "first")
    sent = say(client, auth, ann, with_ann, "second")
    say(client, auth, me, with_ann, "mine")  # own messages are never unread
    items = listing(client, auth, me)["items"]
    assert [i["id"] for i in items] == [with_ann, trip, with_bob]
    first = items[0]
    assert (first["unread"], first["last_message"]["seq"], first["last_message"]["body"]) == (2, 3, "mine")
    assert first["last_message"]["sender"] == {"id": me.id, "name": "Me", "role": "mobile"}
    assert items[1]["last_message"] is None and items[1]["last_activity_at"] == items[1]["created_at"]
    say(client, auth, bob, with_bob, "hello")
    assert [i["id"] for i in listing(client, auth, me)["items"]] == [with_bob, with_ann, trip]
    assert sent["seq"] == 2


def test_a_deleted_last_message_shows_without_its_body_and_is_not_unread(client, auth, sessions):
    me, ann = auth.user(), auth.user()
    conversation = direct(client, auth, me, ann)
    say(client, auth, ann, conversation, "keep")
    gone = say(client, auth, ann, conversation, "oops")
    delete_message(sessions, gone["id"])
    item = listing(client, auth, me)["items"][0]
    assert item["unread"] == 1
    assert (item["last_message"]["id"], item["last_message"]["body"], item["last_message"]["deleted"]) == \
        (gone["id"], None, True)


def test_pages_follow_an_opaque_cursor_without_repeats(client, auth):
    me = auth.user()
    made = [direct(client, auth, me, auth.user()) for _ in range(5)]
    seen, cursor = [], None
    while True:
        page = listing(client, auth, me, f"?limit=2{f'&cursor={cursor}' if cursor else ''}")
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    bad = client.get("/v1/conversations?cursor=nonsense", headers=auth.headers(me))
    assert (bad.status_code, bad.json["code"]) == (400, "bad_request")
    assert client.get("/v1/conversations?limit=0", headers=auth.headers(me)).status_code == 400


def test_archived_conversations_are_listed_apart_and_stay_archived_when_messages_arrive(client, auth):
    me, ann, bob = auth.user(), auth.user(), auth.user()
    with_ann, with_bob = direct(client, auth, me, ann), direct(client, auth, me, bob)
    archived = client.post(f"/v1/conversations/{with_ann}/archive", headers=auth.headers(me))
    assert archived.status_code == 200 and archived.json["archived"] is True
    say(client, auth, ann, with_ann, "are you there?")
    assert [i["id"] for i in listing(client, auth, me)["items"]] == [with_bob]
    assert [i["id"] for i in listing(client, auth, me, "?archived=true")["items"]] == [with_ann]
    assert [i["id"] for i in listing(client, auth, ann)["items"]] == [with_ann]  # archive is per member
    assert client.get("/v1/conversations?archived=maybe", headers=auth.headers(me)).status_code == 400
    client.post(f"/v1/conversations/{with_ann}/unarchive", headers=auth.headers(me))
    assert [i["id"] for i in listing(client, auth, me)["items"]] == [with_ann, with_bob]


def test_conversations_left_are_not_listed(client, auth):
    owner, me = auth.user(), auth.user()
    conversation = group(client, auth, owner, [me])
    client.post(f"/v1/conversations/{conversation}/leave", headers=auth.headers(me))
    assert listing(client, auth, me)["items"] == []
    assert listing(client, auth, me, "?archived=true")["items"] == []


def test_the_badge_counts_unread_messages_over_non_archived_conversations(client, auth, sessions):
    me, ann, bob, cat = auth.user(), auth.user(), auth.user(), auth.user()
    with_ann, with_bob, with_cat = (direct(client, auth, me, other) for other in (ann, bob, cat))
    badge = "/v1/conversations/unread-count"
    assert client.get(badge, headers=auth.headers(me)).json == {"unread": 0, "conversations": 0}
    for _ in range(3):
        say(client, auth, ann, with_ann)
    say(client, auth, bob, with_bob)
    deleted = say(client, auth, bob, with_bob)
    delete_message(sessions, deleted["id"])
    say(client, auth, cat, with_cat)
    client.post(f"/v1/conversations/{with_cat}/archive", headers=auth.headers(me))
    assert client.get(badge, headers=auth.headers(me)).json == {"unread": 4, "conversations": 2}
    client.post(f"/v1/conversations/{with_ann}/read", json={"up_to_seq": 3}, headers=auth.headers(me))
    assert client.get(badge, headers=auth.headers(me)).json == {"unread": 1, "conversations": 1}
    assert client.get(badge, headers=auth.headers(ann)).json == {"unread": 0, "conversations": 0}


def test_the_conversation_view_carries_its_last_message(client, auth):
    me, ann = auth.user(), auth.user()
    conversation = direct(client, auth, me, ann)
    say(client, auth, ann, conversation, "hello")
    view = client.get(f"/v1/conversations/{conversation}", headers=auth.headers(me)).json
    assert (view["last_message"]["body"], view["unread"], view["archived"]) == ("hello", 1, False)


def test_creating_a_group_twice_with_one_idempotency_key_creates_it_once(client, auth, sessions):
    from db.engine import UnitOfWork
    from db.models import Conversation
    from sqlalchemy import select

    owner, friend = auth.user("mobile"), auth.user("mobile")
    body = {"kind": "group", "title": "Climbing", "members": [friend.id]}
    key = {**auth.headers(owner), "Idempotency-Key": "group-1"}
    first = client.post("/v1/conversations", json=body, headers=key)
    again = client.post("/v1/conversations", json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json["id"] == first.json["id"] and again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/v1/conversations", json={**body, "title": "Other"}, headers=key)
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    with UnitOfWork(sessions) as uow:
        assert len(uow.session.scalars(select(Conversation)).all()) == 1
