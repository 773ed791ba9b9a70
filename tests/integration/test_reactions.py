"""Reactions on the real PostgreSQL: idempotent, members only, aggregated on read."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import event

from tests.integration.chat_support import direct, events, frames, group, history, say, worker  # noqa: F401


def url(message_id, emoji):
    return f"/v1/messages/{message_id}/reactions/{quote(emoji)}"


def react(client, auth, user, message_id, emoji="👍"):
    return client.put(url(message_id, emoji), headers=auth.headers(user))


def unreact(client, auth, user, message_id, emoji="👍"):
    return client.delete(url(message_id, emoji), headers=auth.headers(user))


def test_placing_is_idempotent_and_only_a_change_makes_an_event(client, auth, sessions, worker):
    a, b = auth.user(), auth.user()
    message_id = say(client, auth, a, direct(client, auth, a, b).json["id"])
    first, again = react(client, auth, b, message_id), react(client, auth, b, message_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json == again.json == {"message_id": message_id,
                                        "reactions": [{"emoji": "👍", "count": 1, "me": True}]}
    worker()
    assert [unreact(client, auth, b, message_id).status_code for _ in range(2)] == [204, 204]
    worker()
    for user in (a, b):
        assert [(e.payload["action"], e.payload["user_id"], e.payload["emoji"], e.payload["count"])
                for e in events(sessions, user, "reaction")] == [("added", b.id, "👍", 1), ("removed", b.id, "👍", 0)]


def test_counts_aggregate_over_people_and_me_is_the_viewer(client, auth, sessions, worker):
    a, b, c = auth.user(), auth.user(), auth.user()
    conversation = group(client, auth, a, b, c)
    message_id = say(client, auth, a, conversation)
    for user, emoji in ((b, "👍"), (c, "👍"), (c, "❤️"), (a, "❤️"), (a, ":tada:")):
        assert react(client, auth, user, message_id, emoji).status_code == 201
        worker()
    expected = {a: [("👍", 2, False), ("❤️", 2, True), (":tada:", 1, True)],
                b: [("👍", 2, True), ("❤️", 2, False), (":tada:", 1, False)],
                c: [("👍", 2, True), ("❤️", 2, True), (":tada:", 1, False)]}
    for user, summary in expected.items():
        [item] = history(client, auth, user, conversation)
        assert [(r["emoji"], r["count"], r["me"]) for r in item["reactions"]] == summary
        [message] = [f["message"] for f in frames(sessions, user) if f["type"] == "message"]
        assert [(r["emoji"], r["count"], r["me"]) for r in message["reactions"]] == summary
        counts = [(f["emoji"], f["count"]) for f in frames(sessions, user) if f["type"] == "reaction"]
        assert counts == [("👍", 1), ("👍", 2), ("❤️", 1), ("❤️", 2), (":tada:", 1)]


def test_a_reaction_event_carries_the_count_when_it_is_sent_so_the_last_one_is_current(client, auth, sessions,
                                                                                      worker):
    a, b, c = auth.user(), auth.user(), auth.user()
    message_id = say(client, auth, a, group(client, auth, a, b, c))
    react(client, auth, b, message_id)
    react(client, auth, c, message_id)
    unreact(client, auth, b, message_id)
    worker()  # all three fan-outs run after the last change
    assert [(f["action"], f["count"]) for f in frames(sessions, a) if f["type"] == "reaction"] == \
        [("added", 1), ("added", 1), ("removed", 1)]


def test_history_loads_reactions_for_a_page_in_one_query(client, auth, engine):
    a, b = auth.user(), auth.user()
    conversation = direct(client, auth, a, b).json["id"]

    def statements_for_history():
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert len(history(client, auth, b, conversation)) > 0
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    for n in range(3):
        react(client, auth, b, say(client, auth, a, conversation, f"m{n}"))
    few = statements_for_history()
    for n in range(12):
        react(client, auth, a, say(client, auth, b, conversation, f"more {n}"), "🔥")
    assert statements_for_history() == few


@pytest.mark.parametrize("emoji", ["ok", "👍👍", "x" * 33, ":Shout:", "👍 ", "\u200d"])
def test_only_one_emoji_or_a_shortcode_is_a_reaction(client, auth, emoji):
    a, b = auth.user(), auth.user()
    message_id = say(client, auth, a, direct(client, auth, a, b).json["id"])
    answer = react(client, auth, b, message_id, emoji)
    assert (answer.status_code, answer.json["code"]) == (422, "invalid_emoji")


@pytest.mark.parametrize("emoji", ["🏳️‍🌈", "👩🏽‍💻", "🇹🇭", "1️⃣", ":+1:"])
def test_composed_emoji_and_shortcodes_are_reactions(client, auth, emoji):
    a, b = auth.user(), auth.user()
    message_id = say(client, auth, a, direct(client, auth, a, b).json["id"])
    assert react(client, auth, b, message_id, emoji).json["reactions"][0]["emoji"] == emoji


def test_only_members_react_and_one_way_messages_take_none(client, auth, publisher):
    a, b, stranger, business = auth.user(), auth.user(), auth.user(), auth.user("business")
    message_id = say(client, auth, a, direct(client, auth, a, b).json["id"])
    for response in (react(client, auth, stranger, message_id), unreact(client, auth, stranger, message_id),
                     react(client, auth, stranger, 10**9)):
        assert (response.status_code, response.json["code"]) == (404, "not_found")
    oneway = client.post("/v1/messages", json={"to": [b.id], "body": "Code 1234"},
                         headers=auth.headers(business)).json["id"]
    assert react(client, auth, b, oneway).json["code"] == "message_read_only"
    assert react(client, auth, stranger, oneway).status_code == 404


def test_a_deleted_message_takes_no_reactions(client, auth):
    a, b = auth.user(), auth.user()
    message_id = say(client, auth, a, direct(client, auth, a, b).json["id"])
    client.delete(f"/v1/messages/{message_id}", headers=auth.headers(a))
    answer = react(client, auth, b, message_id)
    assert (answer.status_code, answer.json["code"]) == (409, "message_deleted")
    assert unreact(client, auth, b, message_id).status_code == 204


def test_one_person_places_at_most_twenty_different_reactions(client, auth):
    a, b = auth.user(), auth.user()
    message_id = say(client, auth, a, direct(client, auth, a, b).json["id"])
    for n in range(20):
        assert react(client, auth, b, message_id, f":e{n}:").status_code == 201
    assert react(client, auth, b, message_id, ":e0:").status_code == 200  # re-placing is not a new one
    answer = react(client, auth, b, message_id, ":one-more:")
    assert (answer.status_code, answer.json["code"]) == (422, "validation_failed")
    assert react(client, auth, a, message_id, ":one-more:").status_code == 201  # the limit is per person
