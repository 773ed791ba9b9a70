"""Membership changes reach the members' streams over real WebSockets:
three people, one group."""

from __future__ import annotations

import pytest
import requests

from tests.support.clients import StreamClient, next_of, token_of

pytestmark = pytest.mark.e2e




def test_members_see_additions_role_changes_and_removals_live_and_after_reconnect(stack, auth, sessions):
    owner, member, newcomer = auth.user("mobile"), auth.user("mobile"), auth.user("mobile")
    api = stack.base_url
    group = requests.post(f"{api}/v1/conversations", json={"kind": "group", "title": "Trip", "members": [member.id]},
                          headers=auth.headers(owner), timeout=10).json()["id"]
    with StreamClient(stack.ws_url, token_of(auth, owner)) as a, StreamClient(stack.ws_url, token_of(auth, member)) as b:
        a.until_ready()
        b.until_ready()
        added = requests.post(f"{api}/v1/conversations/{group}/members", json={"user_ids": [newcomer.id]},
                              headers=auth.headers(owner), timeout=10)
        assert added.status_code in (200, 201), added.text
        for client in (a, b):
            frame = next_of(client, "member_added")
            assert (frame["conversation_id"], frame["user_ids"], frame["by"]) == (group, [newcomer.id], owner.id)
        promoted = requests.patch(f"{api}/v1/conversations/{group}/members/{member.id}", json={"role": "admin"},
                                  headers=auth.headers(owner), timeout=10)
        assert promoted.status_code == 200, promoted.text
        assert next_of(b, "role_changed")["user_id"] == member.id
        removed = requests.delete(f"{api}/v1/conversations/{group}/members/{newcomer.id}",
                                  headers=auth.headers(member), timeout=10)
        assert removed.status_code in (200, 204), removed.text
        assert next_of(a, "member_removed")["user_id"] == newcomer.id
    # The newcomer was offline: their stream holds their addition and their removal.
    with StreamClient(stack.ws_url, token_of(auth, newcomer), since=0) as c:
        frames, _ = c.until_ready()
    kinds = [f["type"] for f in frames if f.get("conversation_id") == group]
    assert kinds[0] == "member_added" and kinds[-1] == "member_removed"
    gone = requests.get(f"{api}/v1/conversations/{group}", headers=auth.headers(newcomer), timeout=10)
    assert gone.status_code == 404
