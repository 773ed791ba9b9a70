"""A token scoped to one conversation, on a real WebSocket through the full
stack: only that conversation's messages and events, live and on replay."""

from __future__ import annotations

import pytest
import requests

from tests.support.clients import StreamClient

pytestmark = pytest.mark.e2e


def post(stack, auth, user, path, body=None) -> dict:
    answer = requests.post(f"{stack.base_url}{path}", json=body, headers=auth.headers(user), timeout=10)
    assert answer.status_code < 300, answer.text
    return answer.json()


def frames_until(client, kinds: set[str], timeout=10.0) -> list[dict]:
    """Frames until one of each kind arrived (a message's job and an event's
    job may be positioned in either order)."""
    frames: list[dict] = []
    while not kinds <= {f["type"] for f in frames}:
        frames.append(client.next(timeout))
    return frames


def conversation_of(frame) -> int | None:
    return frame.get("conversation_id", (frame.get("message") or {}).get("conversation_id"))


def test_a_scoped_socket_sees_only_its_conversation(stack, auth, sessions):
    hotel, guest, friend = auth.user("business", username="hotel-e2e"), auth.user(), auth.user()
    booking = post(stack, auth, hotel, "/v1/conversations",
                   {"kind": "direct", "with": guest.id, "context_ref": "booking-1"})["id"]
    elsewhere = post(stack, auth, friend, "/v1/conversations", {"kind": "direct", "with": guest.id})["id"]
    token = post(stack, auth, hotel, f"/v1/conversations/{booking}/scoped-tokens", {"user_id": guest.id})["access_token"]
    with StreamClient(stack.ws_url, token) as scoped:
        scoped.until_ready()
        post(stack, auth, friend, f"/v1/conversations/{elsewhere}/messages", {"body": "secret"})
        post(stack, auth, hotel, f"/v1/conversations/{booking}/messages", {"body": "room ready"})
        post(stack, auth, friend, f"/v1/conversations/{elsewhere}/messages", {"body": "secret 2"})
        post(stack, auth, hotel, f"/v1/conversations/{booking}/close")
        live = frames_until(scoped, {"message", "conversation_closed"})
    assert {conversation_of(f) for f in live} == {booking}
    assert [f["message"]["body"] for f in live if f["type"] == "message"] == ["room ready"]
    with StreamClient(stack.ws_url, token) as again:
        replayed, ready = again.until_ready()
    assert sorted(f["type"] for f in replayed) == ["conversation_closed", "message"]
    assert {conversation_of(f) for f in replayed} == {booking}
    with StreamClient(stack.ws_url, auth.headers(guest)["Authorization"].split()[1]) as full:
        everything, _ = full.until_ready()
    assert {conversation_of(f) for f in everything} == {booking, elsewhere}
