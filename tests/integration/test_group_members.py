"""Group membership on the real PostgreSQL: who may add, remove, promote,
who inherits a group, and the events the members' streams get."""

from __future__ import annotations

import dataclasses

import pytest

from tests.support.chat import direct, events_of, group, job_runner, say


@pytest.fixture
def worker(settings, sessions, publisher):
    return job_runner(settings, sessions, publisher)


def members(client, auth, user, conversation):
    answer = client.get(f"/v1/conversations/{conversation}/members", headers=auth.headers(user))
    return {m["user"]["id"]: m["role"] for m in answer.json["items"]}


def add(client, auth, user, conversation, *ids):
    return client.post(f"/v1/conversations/{conversation}/members", json={"user_ids": list(ids)},
                       headers=auth.headers(user))


def set_role(client, auth, user, conversation, target, role):
    return client.patch(f"/v1/conversations/{conversation}/members/{target.id}", json={"role": role},
                        headers=auth.headers(user))


def test_owners_and_admins_add_members_and_everyone_is_told(client, auth, sessions, worker):
    owner, admin, plain, newcomer, later = (auth.user() for _ in range(5))
    conversation = group(client, auth, owner, [admin, plain])
    assert set_role(client, auth, owner, conversation, admin, "admin").json["role"] == "admin"
    added = add(client, auth, admin, conversation, newcomer.id, plain.id)
    assert added.status_code == 200 and added.json == {"conversation_id": conversation, "added": [newcomer.id]}
    assert add(client, auth, owner, conversation, later.id).json["added"] == [later.id]
    assert members(client, auth, newcomer, conversation) == {
        owner.id: "owner", admin.id: "admin", plain.id: "member", newcomer.id: "member", later.id: "member"}
    worker()
    assert ("member_added", {"conversation_id": conversation, "user_ids": [newcomer.id], "by": admin.id}) \
        in events_of(sessions, plain)
    assert [kind for kind, _ in events_of(sessions, newcomer)] == ["member_added", "member_added"]


def test_a_member_without_a_role_may_not_change_the_group(client, auth):
    owner, plain, other, outsider = (auth.user() for _ in range(4))
    conversation = group(client, auth, owner, [plain, other])
    for response in (add(client, auth, plain, conversation, outsider.id),
                     client.delete(f"/v1/conversations/{conversation}/members/{other.id}", headers=auth.headers(plain)),
                     set_role(client, auth, plain, conversation, other, "admin")):
        assert (response.status_code, response.json["code"]) == (403, "forbidden")


def test_non_members_get_404_on_every_membership_endpoint(client, auth):
    owner, plain, stranger = (auth.user() for _ in range(3))
    conversation = group(client, auth, owner, [plain])
    base = f"/v1/conversations/{conversation}"
    for response in (client.get(f"{base}/members", headers=auth.headers(stranger)),
                     add(client, auth, stranger, conversation, stranger.id),
                     client.delete(f"{base}/members/{plain.id}", headers=auth.headers(stranger)),
                     set_role(client, auth, stranger, conversation, plain, "admin"),
                     client.post(f"{base}/leave", headers=auth.headers(stranger))):
        assert (response.status_code, response.json["code"]) == (404, "not_found")


def test_the_member_limit_is_enforced(client, auth, app):
    res = app.extensions["herald"]
    res.ports = dataclasses.replace(res.ports, chat=dataclasses.replace(res.ports.chat, group_member_limit=3))
    owner, a, b, c = (auth.user() for _ in range(4))
    conversation = group(client, auth, owner, [a])
    refused = add(client, auth, owner, conversation, b.id, c.id)
    assert (refused.status_code, refused.json["code"]) == (422, "group_full")
    assert add(client, auth, owner, conversation, b.id).json["added"] == [b.id]
    assert set(members(client, auth, owner, conversation)) == {owner.id, a.id, b.id}


def test_unknown_users_and_admins_cannot_be_added(client, auth):
    owner, admin_user = auth.user(), auth.user("admin", username="root")
    conversation = group(client, auth, owner, [])
    for ids in ([10**9], [admin_user.id]):
        response = add(client, auth, owner, conversation, *ids)
        assert (response.status_code, response.json["code"]) == (422, "recipient_not_found")


def test_someone_who_left_is_re_activated_with_nothing_unread(client, auth, sessions):
    owner, friend = auth.user(), auth.user()
    conversation = group(client, auth, owner, [friend])
    assert client.post(f"/v1/conversations/{conversation}/leave", headers=auth.headers(friend)).status_code == 204
    assert client.get(f"/v1/conversations/{conversation}", headers=auth.headers(friend)).status_code == 404
    say(client, auth, owner, conversation, "while you were away")
    assert add(client, auth, owner, conversation, friend.id).json["added"] == [friend.id]
    again = client.get(f"/v1/conversations/{conversation}", headers=auth.headers(friend)).json
    assert (again["role"], again["unread"], again["read_seq"]) == ("member", 0, 1)
    say(client, auth, owner, conversation, "welcome back")
    assert client.get(f"/v1/conversations/{conversation}", headers=auth.headers(friend)).json["unread"] == 1


def test_admins_remove_members_but_only_owners_remove_admins(client, auth, sessions, worker):
    owner, admin, other_admin, plain = (auth.user() for _ in range(4))
    conversation = group(client, auth, owner, [admin, other_admin, plain])
    for user in (admin, other_admin):
        set_role(client, auth, owner, conversation, user, "admin")
    base = f"/v1/conversations/{conversation}/members"
    refused = client.delete(f"{base}/{other_admin.id}", headers=auth.headers(admin))
    assert (refused.status_code, refused.json["code"]) == (403, "forbidden")
    assert client.delete(f"{base}/{plain.id}", headers=auth.headers(admin)).status_code == 204
    assert client.delete(f"{base}/{other_admin.id}", headers=auth.headers(owner)).status_code == 204
    gone = client.delete(f"{base}/{plain.id}", headers=auth.headers(owner))
    assert (gone.status_code, gone.json["code"]) == (404, "not_found")
    assert set(members(client, auth, owner, conversation)) == {owner.id, admin.id}
    worker()
    removed = {"conversation_id": conversation, "user_id": plain.id, "by": admin.id}
    assert ("member_removed", removed) in events_of(sessions, plain)  # the removed user is told too
    assert ("member_removed", removed) in events_of(sessions, owner)


def test_removing_yourself_is_leaving(client, auth, sessions, worker):
    owner, plain = auth.user(), auth.user()
    conversation = group(client, auth, owner, [plain])
    assert client.delete(f"/v1/conversations/{conversation}/members/{plain.id}",
                         headers=auth.headers(plain)).status_code == 204
    worker()
    assert events_of(sessions, owner)[-1] == ("member_left", {"conversation_id": conversation, "user_id": plain.id})
    assert events_of(sessions, plain)[-1][0] == "member_left"


def test_an_owner_leaving_hands_the_group_to_the_longest_standing_admin(client, auth, sessions, worker):
    owner, early, admin, late_admin = (auth.user() for _ in range(4))
    conversation = group(client, auth, owner, [early])
    add(client, auth, owner, conversation, admin.id)
    add(client, auth, owner, conversation, late_admin.id)
    set_role(client, auth, owner, conversation, late_admin, "admin")
    set_role(client, auth, owner, conversation, admin, "admin")
    assert client.post(f"/v1/conversations/{conversation}/leave", headers=auth.headers(owner)).status_code == 204
    assert members(client, auth, early, conversation) == {early.id: "member", admin.id: "owner",
                                                          late_admin.id: "admin"}
    worker()
    handover = ("role_changed", {"conversation_id": conversation, "user_id": admin.id, "role": "owner",
                                 "previous_role": "admin", "by": None})
    assert events_of(sessions, early)[-2:] == [
        ("member_left", {"conversation_id": conversation, "user_id": owner.id}), handover]


def test_without_admins_the_longest_standing_member_inherits(client, auth):
    owner, first, second = (auth.user() for _ in range(3))
    conversation = group(client, auth, owner, [first])
    add(client, auth, owner, conversation, second.id)
    client.post(f"/v1/conversations/{conversation}/leave", headers=auth.headers(owner))
    assert members(client, auth, second, conversation) == {first.id: "owner", second.id: "member"}


def test_role_changes_follow_the_rules_and_keep_an_owner(client, auth):
    owner, admin, plain = (auth.user() for _ in range(3))
    conversation = group(client, auth, owner, [admin, plain])
    set_role(client, auth, owner, conversation, admin, "admin")
    refused = set_role(client, auth, admin, conversation, plain, "admin")
    assert (refused.status_code, refused.json["code"]) == (403, "forbidden")
    last = set_role(client, auth, owner, conversation, owner, "admin")
    assert (last.status_code, last.json["code"]) == (409, "last_owner")
    bad = set_role(client, auth, owner, conversation, plain, "king")
    assert (bad.status_code, bad.json["code"]) == (422, "validation_failed")
    assert set_role(client, auth, owner, conversation, plain, "owner").json["role"] == "owner"
    assert set_role(client, auth, owner, conversation, owner, "member").json["role"] == "member"


def test_direct_conversations_have_no_membership_changes(client, auth):
    a, b, c = (auth.user() for _ in range(3))
    conversation = direct(client, auth, a, b)
    base = f"/v1/conversations/{conversation}"
    for response in (add(client, auth, a, conversation, c.id),
                     client.delete(f"{base}/members/{b.id}", headers=auth.headers(a)),
                     set_role(client, auth, a, conversation, b, "admin"),
                     client.post(f"{base}/leave", headers=auth.headers(a))):
        assert (response.status_code, response.json["code"]) == (409, "not_a_group")
