"""The delivery job encodes each message once for all its recipients; the
frame text it builds is exactly what pipeline.frames.encode would give."""

from __future__ import annotations

from pipeline.frames import encode, message_frame
from usecases.messaging.deliver import message_frame_text


def test_a_frame_built_from_the_encoded_message_is_the_encoded_frame():
    message = {"id": 7, "kind": "chat", "conversation_id": 3, "seq": 2, "body": "สวัสดี \"quoted\" \n",
               "priority": "normal", "sender": {"id": 1, "name": "Lek", "role": "mobile"},
               "created_at": "2026-12-02T15:00:00+00:00", "edited_at": None, "deleted": False,
               "reply_allowed": True, "reactions": []}
    for position in (1, 42, 10**12):
        assert message_frame_text(position, encode(message)) == encode(message_frame(position, message))


def test_event_frames_built_from_one_encoding_are_the_encoded_frames():
    from pipeline.frames import event_frame
    from usecases.chat.fan_out import event_frame_texts
    for payload in ({"conversation_id": 3, "user_id": 1, "seq": 9, "emoji": "👍"}, {}, {"position": 5, "a": 1}):
        positions = [1, 7, 10**9]
        assert event_frame_texts("receipt", payload, positions) == [
            encode(event_frame("receipt", position, payload)) for position in positions]
