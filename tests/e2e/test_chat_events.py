"""Edits, deletes and reactions reach every member's socket live, and a
reconnecting member gets them again from `since`, through the full stack."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests

from tests.e2e.test_chat_sockets import next_of, token_of
from tests.support.clients import StreamClient

pytestmark = pytest.mark.e2e


class Api:
    def __init__(self, stack, auth):
        self.base, self.auth = stack.base_url, auth

    def call(self, method, path, user, **kwargs):
        answer = requests.request(method, f"{self.base}{path}", headers=self.auth.headers(user), timeout=10, **kwargs)
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else None

    def say(self, user, conversation, body):
        return self.call("post", f"/v1/conversations/{conversation}/messages", user, json={"body": body})["id"]


def connect(stack, auth, user, since=0):
    client = StreamClient(stack.ws_url, token_of(auth, user), since=since)
    client.until_ready()
    return client


def until_ready(client):
    """Replayed frames after `since`, by type, then the ready frame."""
    replayed, _ = client.until_ready()
    return [f for f in replayed if f["type"] in ("message", "edit", "delete", "reaction")]


def test_two_people_see_each_others_edits_reactions_and_deletes_live_and_on_reconnect(stack, auth, sessions):
    api, nok, lek = Api(stack, auth), auth.user(), auth.user()
    conversation = api.call("post", "/v1/conversations", nok, json={"kind": "direct", "with": lek.id})["id"]
    with connect(stack, auth, nok) as a, connect(stack, auth, lek) as b:
        message_id = api.say(nok, conversation, "Dinner at 7?")
        start = next_of(b, "message")["position"]
        api.call("patch", f"/v1/messages/{message_id}", nok, json={"body": "Dinner at 8?"})
        for client in (a, b):
            edit = next_of(client, "edit")
            assert (edit["message_id"], edit["seq"], edit["body"]) == (message_id, 1, "Dinner at 8?")
        api.call("put", f"/v1/messages/{message_id}/reactions/{quote('👍')}", lek)
        for client in (a, b):
            reaction = next_of(client, "reaction")
            assert (reaction["emoji"], reaction["user_id"], reaction["action"], reaction["count"]) == \
                ("👍", lek.id, "added", 1)
        api.call("delete", f"/v1/messages/{message_id}", nok)
        for client in (a, b):
            assert next_of(client, "delete")["message_id"] == message_id
    with connect_replaying(stack, auth, lek, start) as (_, replayed):
        assert [f["type"] for f in replayed] == ["edit", "reaction", "delete"]
        assert replayed[0]["body"] is None and replayed[0]["deleted"] is True  # the text is gone for good


class connect_replaying:
    """A socket opened with `since`, and what it replayed before `ready`."""

    def __init__(self, stack, auth, user, since):
        self.client = StreamClient(stack.ws_url, token_of(auth, user), since=since)

    def __enter__(self):
        return self.client, until_ready(self.client)

    def __exit__(self, *exc):
        self.client.close()


def test_three_members_get_every_event_and_a_returning_member_catches_up(stack, auth, sessions):
    api = Api(stack, auth)
    owner, one, two = auth.user(), auth.user(), auth.user()
    conversation = api.call("post", "/v1/conversations", owner,
                            json={"kind": "group", "title": "Trip", "members": [one.id, two.id]})["id"]
    with connect(stack, auth, two) as c:
        kept, dropped = api.say(owner, conversation, "Meet at 9"), api.say(two, conversation, "oops")
        seen = [next_of(c, "message") for _ in range(2)]
        assert [f["message"]["id"] for f in seen] == [kept, dropped]
    away_from = seen[-1]["position"]
    # `two` is offline from here; the others watch live.
    with connect(stack, auth, owner, since=10**9) as a, connect(stack, auth, one, since=10**9) as b:
        api.call("patch", f"/v1/messages/{kept}", owner, json={"body": "Meet at 10"})
        api.call("put", f"/v1/messages/{kept}/reactions/{quote('🎉')}", one)
        api.call("put", f"/v1/messages/{kept}/reactions/{quote('🎉')}", owner)
        api.call("delete", f"/v1/messages/{dropped}", owner)  # the group's owner moderates
        for client in (a, b):
            assert next_of(client, "edit")["body"] == "Meet at 10"
            reactions = [next_of(client, "reaction") for _ in range(2)]
            # Counts are read when each event is sent: the last one is current.
            assert ({f["user_id"] for f in reactions}, reactions[-1]["count"]) == ({one.id, owner.id}, 2)
            deleted = next_of(client, "delete")
            assert (deleted["message_id"], deleted["deleted_by"]) == (dropped, owner.id)
    with connect_replaying(stack, auth, two, away_from) as (_, replayed):
        assert [f["type"] for f in replayed] == ["edit", "reaction", "reaction", "delete"]
        assert replayed[0]["body"] == "Meet at 10"
        assert ({f["user_id"] for f in replayed[1:3]}, replayed[2]["count"]) == ({one.id, owner.id}, 2)
    with connect_replaying(stack, auth, two, 0) as (_, replayed):
        messages = {f["message"]["id"]: f["message"] for f in replayed if f["type"] == "message"}
        assert (messages[kept]["body"], messages[kept]["reactions"]) == \
            ("Meet at 10", [{"emoji": "🎉", "count": 2, "me": False}])
        assert (messages[dropped]["body"], messages[dropped]["deleted"]) == (None, True)
