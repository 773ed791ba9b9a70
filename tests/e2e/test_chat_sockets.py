"""Chat over real WebSockets through the full stack: send, sent, message,
delivered and read receipts."""

from __future__ import annotations

import pytest
import requests

from tests.support.clients import StreamClient, next_of, token_of

pytestmark = pytest.mark.e2e




def test_two_people_chat_and_see_delivered_then_read(stack, auth, sessions):
    nok, lek = auth.user("mobile"), auth.user("mobile")
    conversation = requests.post(f"{stack.base_url}/v1/conversations", json={"kind": "direct", "with": lek.id},
                                 headers=auth.headers(nok), timeout=10).json()["id"]
    with StreamClient(stack.ws_url, token_of(auth, nok)) as a, StreamClient(stack.ws_url, token_of(auth, lek)) as b:
        a.until_ready()
        b.until_ready()
        a.send({"type": "send", "conversation_id": conversation, "client_msg_id": "m-1", "body": "Dinner at 7?"})
        sent = next_of(a, "sent")
        assert (sent["client_msg_id"], sent["seq"], sent["replayed"]) == ("m-1", 1, False)
        own = next_of(a, "message")  # the sender's copy, for their other devices
        frame = next_of(b, "message")
        assert frame["message"]["id"] == sent["message_id"] == own["message"]["id"]
        assert (frame["message"]["body"], frame["message"]["seq"]) == ("Dinner at 7?", 1)
        b.send({"type": "ack", "position": frame["position"]})
        delivered = next_of(a, "receipt")
        assert (delivered["user_id"], delivered["status"], delivered["up_to_seq"]) == (lek.id, "delivered", 1)
        b.send({"type": "read", "conversation_id": conversation, "up_to_seq": 1})
        read = next_of(a, "receipt")
        assert (read["user_id"], read["status"], read["up_to_seq"]) == (lek.id, "read", 1)
        a.send({"type": "send", "conversation_id": conversation, "client_msg_id": "m-1", "body": "Dinner at 7?"})
        assert next_of(a, "sent")["replayed"] is True
        b.send({"type": "send", "conversation_id": 10**9, "client_msg_id": "x", "body": "hi"})
        refused = next_of(b, "error")
        assert (refused["code"], refused["client_msg_id"]) == ("not_found", "x")
    status = requests.get(f"{stack.base_url}/v1/messages/{sent['message_id']}", headers=auth.headers(nok),
                          timeout=10).json()
    assert [(r["user_id"], r["status"]) for r in status["recipients"]] == [(lek.id, "read")]
