"""Push payloads and what an FCM refusal means: pure rules in pipeline.push."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import push
from pipeline.push import PRUNE, REJECT, RETRY, build_push, classify_failure, retry_after_ms, truncate

NOW = datetime(2026, 5, 1, 9, 30, tzinfo=timezone.utc)


def message(**fields) -> dict:
    return {"id": 1001, "kind": "oneway", "body": "Your room is ready", "priority": "normal",
            "sender": {"id": 7, "name": "Acme Hotels", "role": "business"}, **fields}


def test_a_push_names_the_sender_shows_the_body_and_carries_ids_as_strings():
    payload = build_push(message(), 17, "tok", "android")
    assert (payload.title, payload.body, payload.token, payload.platform) == (
        "Acme Hotels", "Your room is ready", "tok", "android")
    assert payload.data == {"type": "message", "message_id": "1001", "kind": "oneway", "position": "17"}


def test_a_sender_without_a_name_gets_a_generic_title_and_no_position_is_left_out():
    payload = build_push(message(sender={"id": 7, "name": None, "role": "business"}), None, "tok", "ios")
    assert payload.title == "New message" and "position" not in payload.data


@pytest.mark.parametrize("priority, urgent, android, apns, web", [
    ("high", True, "high", "10", "high"),
    ("normal", True, "high", "10", "high"),
    ("low", False, "normal", "5", "normal"),
])
def test_only_low_priority_messages_wait_for_a_convenient_moment(priority, urgent, android, apns, web):
    payload = build_push(message(priority=priority), 1, "tok", "web")
    assert (payload.urgent, payload.android_priority, payload.apns_priority, payload.webpush_urgency) == (
        urgent, android, apns, web)


@given(st.text(max_size=2000), st.integers(min_value=2, max_value=300))
def test_truncation_keeps_within_the_limit_and_marks_the_cut(text, limit):
    cut = truncate(text, limit)
    assert len(cut) <= limit
    assert cut == text or (cut.endswith(push.ELLIPSIS) and text.startswith(cut[:-1]))


@given(body=st.text(min_size=1, max_size=5000), name=st.one_of(st.none(), st.text(max_size=500)),
       message_id=st.integers(min_value=1), position=st.one_of(st.none(), st.integers(min_value=1)))
def test_every_payload_fits_fcm_whatever_the_message(body, name, message_id, position):
    payload = build_push(message(id=message_id, body=body, sender={"name": name}), position, "tok", "android")
    assert len(payload.body) <= push.BODY_MAX_CHARS and len(payload.title) <= push.TITLE_MAX_CHARS
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in payload.data.items())
    size = len((payload.title + payload.body).encode()) + sum(len(k) + len(v) for k, v in payload.data.items())
    assert size < 4096  # FCM's limit for a whole message


@pytest.mark.parametrize("fcm_code, status, outcome", [
    ("UNREGISTERED", 404, PRUNE),
    ("SENDER_ID_MISMATCH", 403, PRUNE),
    ("QUOTA_EXCEEDED", 429, RETRY),
    (None, 429, RETRY),
    ("UNAVAILABLE", 503, RETRY),
    (None, 503, RETRY),
    ("INTERNAL", 500, RETRY),
    (None, 502, RETRY),
    (None, None, RETRY),  # no answer at all: network, timeout, token refresh
    (None, 401, RETRY),  # our credentials: operators fix them, the breaker stops the hammering
    ("THIRD_PARTY_AUTH_ERROR", 401, RETRY),
    ("INVALID_ARGUMENT", 400, REJECT),
    (None, 400, REJECT),
    (None, 404, REJECT),  # a 404 without UNREGISTERED may be a wrong endpoint: never prune on it
])
def test_fcm_refusals_are_classified(fcm_code, status, outcome):
    assert classify_failure(fcm_code, status) == outcome


@given(st.one_of(st.none(), st.sampled_from(["UNAVAILABLE", "INTERNAL", "QUOTA_EXCEEDED"])),
       st.one_of(st.none(), st.sampled_from([429, 500, 502, 503, 504])))
def test_quota_and_server_errors_are_never_pruned(fcm_code, status):
    assert classify_failure(fcm_code, status) == RETRY


def test_retry_after_is_read_as_seconds_or_a_date_and_capped():
    assert retry_after_ms("7", NOW, cap_ms=60_000) == 7_000
    assert retry_after_ms("3600", NOW, cap_ms=60_000) == 60_000
    date = (NOW + timedelta(seconds=20)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after_ms(date, NOW, cap_ms=60_000) == 20_000
    past = (NOW - timedelta(seconds=20)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after_ms(past, NOW, cap_ms=60_000) == 0
    assert retry_after_ms(None, NOW, cap_ms=60_000) is None
    assert retry_after_ms("soon", NOW, cap_ms=60_000) is None
