"""Closing conversations and tokens scoped to one conversation."""

from __future__ import annotations

import jwt
import pytest

from usecases.operations.audit import entries_for
from db.engine import UnitOfWork
from tests.support.chat import direct, events_of, group, job_runner, say
from tests.support.tokens import bearer


@pytest.fixture
def worker(settings, sessions, publisher):
    return job_runner(settings, sessions, publisher)


def close(client, auth, user, conversation):
    return client.post(f"/v1/conversations/{conversation}/close", headers=auth.headers(user))


def test_an_admin_closes_a_group_then_sending_fails_and_members_are_told(client, auth, sessions, worker):
    owner, admin, plain = (auth.user() for _ in range(3))
    conversation = group(client, auth, owner, [admin, plain])
    client.patch(f"/v1/conversations/{conversation}/members/{admin.id}", json={"role": "admin"},
                 headers=auth.headers(owner))
    refused = close(client, auth, plain, conversation)
    assert (refused.status_code, refused.json["code"]) == (403, "forbidden")
    closed = close(client, auth, admin, conversation)
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert close(client, auth, owner, conversation).status_code == 200  # closing twice changes nothing
    send = client.post(f"/v1/conversations/{conversation}/messages", json={"body": "hi"}, headers=auth.headers(plain))
    assert (send.status_code, send.json["code"]) == (409, "conversation_closed")
    frozen = client.post(f"/v1/conversations/{conversation}/members", json={"user_ids": [auth.user().id]},
                         headers=auth.headers(owner))
    assert (frozen.status_code, frozen.json["code"]) == (409, "conversation_closed")
    assert client.post(f"/v1/conversations/{conversation}/leave", headers=auth.headers(plain)).status_code == 204
    worker()
    for user in (owner, admin, plain):
        closes = [e for e in events_of(sessions, user) if e[0] == "conversation_closed"]
        assert closes == [("conversation_closed", {"conversation_id": conversation, "by": admin.id})]


def test_either_side_of_a_chat_with_a_business_may_close_it(client, auth):
    business, customer = auth.user("business", username="acme"), auth.user()
    first = direct(client, auth, business, customer)
    assert close(client, auth, customer, first).json["status"] == "closed"
    other_business = auth.user("business", username="globex")
    second = direct(client, auth, customer, other_business)
    assert close(client, auth, other_business, second).json["status"] == "closed"


def test_two_people_cannot_close_their_chat_and_strangers_get_404(client, auth):
    a, b, stranger = auth.user(), auth.user(), auth.user()
    conversation = direct(client, auth, a, b)
    refused = close(client, auth, a, conversation)
    assert (refused.status_code, refused.json["code"]) == (403, "forbidden")
    assert close(client, auth, stranger, conversation).status_code == 404
    for action in ("archive", "unarchive"):
        response = client.post(f"/v1/conversations/{conversation}/{action}", headers=auth.headers(stranger))
        assert (response.status_code, response.json["code"]) == (404, "not_found")


def scoped(client, auth, business, conversation, user):
    return client.post(f"/v1/conversations/{conversation}/scoped-tokens", json={"user_id": user.id},
                       headers=auth.headers(business))


def test_a_business_scopes_a_members_token_to_its_conversation(client, auth, app, sessions):
    business, guest = auth.user("business", username="hotel"), auth.user()
    booking = client.post("/v1/conversations", json={"kind": "direct", "with": guest.id, "context_ref": "booking-77"},
                          headers=auth.headers(business)).json
    assert booking["context_ref"] == "booking-77"
    answer = scoped(client, auth, business, booking["id"], guest)
    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    assert (answer.json["token_type"], answer.json["conversation_id"]) == ("Bearer", booking["id"])
    tokens = app.extensions["herald"].tokens
    claims = jwt.decode(answer.json["access_token"], tokens.verify_key, algorithms=[tokens.algorithm],
                        audience=tokens.audience)
    assert (claims["sub"], claims["role"], claims["ctx"]) == (str(guest.id), "mobile", booking["id"])
    assert answer.json["expires_in"] == tokens.ttl_seconds
    with UnitOfWork(sessions) as uow:
        [entry] = entries_for(uow.session, "user", guest.id)
    assert (entry.actor_id, entry.action, entry.details["conversation_id"]) == \
        (business.id, "conversation.scoped_token", booking["id"])


def test_a_scoped_token_sees_only_its_conversation(client, auth):
    business, guest, friend = auth.user("business", username="hotel"), auth.user(), auth.user()
    booking = direct(client, auth, business, guest)
    elsewhere = group(client, auth, guest, [friend])
    say(client, auth, friend, elsewhere, "psst")
    say(client, auth, business, booking, "your room is ready")
    headers = bearer(scoped(client, auth, business, booking, guest).json["access_token"])
    assert [i["id"] for i in client.get("/v1/conversations", headers=headers).json["items"]] == [booking]
    assert client.get("/v1/conversations/unread-count", headers=headers).json == {"unread": 1, "conversations": 1}
    base = f"/v1/conversations/{elsewhere}"
    for method, path, body in (("get", base, None), ("get", f"{base}/messages", None),
                               ("post", f"{base}/messages", {"body": "x"}), ("post", f"{base}/read", {"up_to_seq": 1}),
                               ("get", f"{base}/members", None)):
        response = getattr(client, method)(path, json=body, headers=headers)
        assert (response.status_code, response.json["code"]) == (404, "not_found"), (method, path)
    # Changes of membership and filing are not for scoped tokens at all, in scope or not (web.auth.scope).
    for scope in (base, f"/v1/conversations/{booking}"):
        for method, path, body in (("post", f"{scope}/members", {"user_ids": [friend.id]}),
                                   ("delete", f"{scope}/members/{friend.id}", None),
                                   ("patch", f"{scope}/members/{friend.id}", {"role": "admin"}),
                                   ("post", f"{scope}/leave", None), ("post", f"{scope}/archive", None),
                                   ("post", f"{scope}/unarchive", None), ("post", f"{scope}/close", None)):
            response = getattr(client, method)(path, json=body, headers=headers)
            assert (response.status_code, response.json["code"]) == (403, "forbidden"), (method, path)
    created = client.post("/v1/conversations", json={"kind": "direct", "with": friend.id}, headers=headers)
    assert (created.status_code, created.json["code"]) == (403, "forbidden")
    inside = client.post(f"/v1/conversations/{booking}/messages", json={"body": "thanks"}, headers=headers)
    assert inside.status_code == 202


def test_only_a_business_member_scopes_tokens_and_only_for_mobile_members(client, auth):
    business, guest, outsider = auth.user("business", username="hotel"), auth.user(), auth.user()
    other_business = auth.user("business", username="rival")
    booking = direct(client, auth, business, guest)
    as_mobile = scoped(client, auth, guest, booking, guest)
    assert (as_mobile.status_code, as_mobile.json["code"]) == (403, "forbidden")
    as_stranger = scoped(client, auth, other_business, booking, guest)
    assert (as_stranger.status_code, as_stranger.json["code"]) == (404, "not_found")
    for user in (outsider, business):
        refused = scoped(client, auth, business, booking, user)
        assert (refused.status_code, refused.json["code"]) == (422, "recipient_not_found")
