"""The pure webhook rules: sequences, skipped statuses, the retry schedule,
signatures and which addresses may be called."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from pipeline import status
from pipeline.webhook_events import event_body, reached, status_sequence
from pipeline.webhook_retry import WebhookSchedule
from pipeline.webhook_signing import signature, signature_header, verify
from pipeline.webhook_urls import WebhookUrlRefused, check_addresses, check_url, forbidden_address

FORWARD = [status.SENT, status.DELIVERED, status.READ]


@given(st.integers(0, 5), st.lists(st.sampled_from(FORWARD + [status.FAILED]), min_size=1, max_size=6))
def test_sequences_grow_along_every_forward_path_and_with_each_requeue(requeues, targets):
    current, sequences = status.ACCEPTED, []
    for target in targets:
        if status.can_advance(current, target):
            sequences.extend(status_sequence(s, requeues) for s in reached(target, current == status.SENT))
            current = target
    assert sequences == sorted(set(sequences))
    assert status_sequence(status.SENT, requeues + 1) > status_sequence(status.FAILED, requeues)


def test_a_read_that_skipped_delivered_reports_both_in_order():
    assert reached(status.READ, skipped_delivered=True) == [status.DELIVERED, status.READ]
    assert reached(status.READ, skipped_delivered=False) == [status.READ]


def test_the_schedule_doubles_up_to_its_cap_and_gives_up_after_the_window():
    schedule = WebhookSchedule(first_delay_seconds=30, max_delay_seconds=3600, window_seconds=86400)
    assert [schedule.delay(n).total_seconds() for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert schedule.delay(200).total_seconds() == 3600
    assert 25 <= schedule.attempts_in_window() <= 30
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert not schedule.given_up(start, start + timedelta(hours=23, minutes=59))
    assert schedule.given_up(start, start + timedelta(hours=24))


def test_a_signature_verifies_with_either_secret_during_a_rotation_and_nothing_else():
    body = event_body("evt_1", "ping", datetime(2026, 1, 1, tzinfo=timezone.utc), 0, {})
    header = signature_header(["new", "old"], 1_700_000_000, body)
    assert header == f"t=1700000000,v1={signature('new', 1_700_000_000, body)},v1={signature('old', 1_700_000_000, body)}"
    assert verify(header, "new", body, 1_700_000_100) and verify(header, "old", body, 1_700_000_100)
    assert not verify(header, "other", body, 1_700_000_100)
    assert not verify(header, "new", body + b"x", 1_700_000_100)
    assert not verify(header, "new", body, 1_700_000_301)  # five minutes' tolerance
    assert not verify("v1=" + signature("new", 1_700_000_000, body), "new", body, 1_700_000_000)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
                                     "100.100.100.200", "0.0.0.0", "::1", "fe80::1", "fc00::1",
                                     "::ffff:127.0.0.1", "224.0.0.1", "100.64.0.1"])
def test_private_reserved_and_metadata_addresses_are_forbidden(address):
    assert forbidden_address(address)


def test_public_addresses_are_allowed_and_private_ones_only_when_allowed():
    assert not forbidden_address("93.184.216.34") and not forbidden_address("2606:2800:220:1::1")
    check_addresses("example.com", ["93.184.216.34"], allow_private=False)
    with pytest.raises(WebhookUrlRefused):
        check_addresses("mixed.example", ["93.184.216.34", "10.0.0.1"], allow_private=False)
    check_addresses("local", ["127.0.0.1"], allow_private=True)
    with pytest.raises(WebhookUrlRefused):
        check_addresses("nowhere", [], allow_private=True)


@pytest.mark.parametrize("url, allow_http, ok", [
    ("https://hooks.example.com/herald", False, True), ("http://hooks.example.com/", False, False),
    ("http://hooks.example.com/", True, True), ("ftp://hooks.example.com/", True, False),
    ("https://u:p@hooks.example.com/", False, False), ("https:///path", False, False),
    ("https://hooks.example.com:99999/", False, False), ("https://" + "a" * 2100 + ".com/", False, False)])
def test_urls(url, allow_http, ok):
    if ok:
        assert check_url(url, allow_http) == "hooks.example.com"
    else:
        with pytest.raises(WebhookUrlRefused):
            check_url(url, allow_http)
