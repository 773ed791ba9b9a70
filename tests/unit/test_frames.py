"""WebSocket frame rules."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import frames
from pipeline.errors import BadRequest, PayloadTooLarge


def test_client_frames_are_parsed_and_checked():
    assert frames.parse_client_frame('{"type":"ack","position":3}', 100).position == 3
    assert frames.parse_client_frame('{"type":"ping"}', 100).type == "ping"
    for bad in ('nope', '[]', '{"type":"hack"}', '{"type":"ack","position":-1}',
                '{"type":"ack","position":"3"}', '{"type":"read"}', '{"type":"ack","position":true}'):
        with pytest.raises(BadRequest):
            frames.parse_client_frame(bad, 100)


def test_oversized_frames_are_refused_before_parsing():
    with pytest.raises(PayloadTooLarge):
        frames.parse_client_frame('{"type":"ping","pad":"' + "x" * 200 + '"}', 100)


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_a_client_can_only_ack_what_it_was_sent(requested, last_sent):
    acked = frames.clamp_ack(requested, last_sent)
    assert 0 <= acked <= last_sent
    assert acked == requested or requested > last_sent


@given(st.lists(st.integers(min_value=1, max_value=50), max_size=100))
def test_live_rings_in_any_order_never_send_a_position_twice_or_out_of_order(rings):
    sent, last = [], 0
    stored = set(range(1, 51))  # what the database holds
    for position in rings:
        action = frames.next_action(last, position)
        if action == "send":
            sent.append(position)
            last = position
        elif action == "fill":
            fill = [p for p in sorted(stored) if last < p <= position]
            sent.extend(fill)
            last = position
    assert sent == sorted(set(sent))
    assert sent == list(range(1, last + 1))


def test_frames_encode_compactly_once():
    text = frames.encode(frames.message_frame(7, {"id": 1, "body": "héllo"}))
    assert json.loads(text) == {"type": "message", "position": 7, "message": {"id": 1, "body": "héllo"}}
    assert " " not in text.replace("héllo", "")
