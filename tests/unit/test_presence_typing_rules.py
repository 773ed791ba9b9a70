"""Presence aggregation and typing relay rules (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import presence
from pipeline import typing_indicator as typing
from pipeline.errors import BadRequest


@given(st.lists(st.sampled_from(presence.SESSION_STATES), max_size=6))
def test_a_user_is_online_if_any_session_is_away_if_all_are_offline_if_none(states):
    state = presence.aggregate(states)
    if not states:
        assert state == presence.OFFLINE
    elif presence.ONLINE in states:
        assert state == presence.ONLINE
    else:
        assert state == presence.AWAY


def test_only_live_sessions_count_and_expired_ones_are_forgotten():
    sessions = {"phone": ("away", 100.0), "tablet": ("online", 50.0), "web": ("online", 80.0)}
    live, expired = presence.live_states(sessions, now=80.0)
    assert (live, sorted(expired)) == (["away"], ["tablet", "web"])
    assert presence.aggregate(live) == presence.AWAY


def test_a_hidden_last_seen_is_shown_only_to_its_owner():
    assert presence.shown_last_seen(0.0, hidden=False, viewer_is_subject=False) == "1970-01-01T00:00:00+00:00"
    assert presence.shown_last_seen(0.0, hidden=True, viewer_is_subject=False) is None
    assert presence.shown_last_seen(0.0, hidden=True, viewer_is_subject=True) is not None
    assert presence.shown_last_seen(None, hidden=False, viewer_is_subject=True) is None


def test_online_away_switches_apply_at_once_at_most_once_a_second():
    assert presence.may_switch_now(None, now=5.0)
    assert not presence.may_switch_now(5.0, now=5.5)
    assert presence.may_switch_now(5.0, now=6.0)


def test_user_ids_are_parsed_deduplicated_and_bounded():
    assert presence.parse_user_ids("3, 1,3,2") == [3, 1, 2]
    for bad in (None, "", "a", "1,,x", "0", "-1", "1.5", ",".join(str(n) for n in range(1, 102))):
        with pytest.raises(BadRequest):
            presence.parse_user_ids(bad)


def test_one_start_per_second_per_conversation_is_relayed():
    relays = typing.gate({}, 7, "start", now=10.0, ttl_seconds=5)
    assert relays is not None
    assert typing.gate(relays, 7, "start", now=10.5, ttl_seconds=5) is None
    assert typing.gate(relays, 8, "start", now=10.5, ttl_seconds=5) is not None  # another conversation
    assert typing.gate(relays, 7, "start", now=11.0, ttl_seconds=5) is not None


def test_a_stop_follows_a_relayed_start_once_and_is_never_rate_limited():
    relays = typing.gate({}, 7, "start", now=10.0, ttl_seconds=5)
    stopped = typing.gate(relays, 7, "stop", now=10.1, ttl_seconds=5)
    assert stopped is not None
    assert typing.gate(stopped, 7, "stop", now=10.2, ttl_seconds=5) is None  # nothing left to stop
    assert typing.gate({}, 7, "stop", now=10.0, ttl_seconds=5) is None
    # The stop does not reset the start interval: at most two relays a second.
    assert typing.gate(stopped, 7, "start", now=10.5, ttl_seconds=5) is None
    assert typing.gate(stopped, 7, "start", now=11.0, ttl_seconds=5) is not None


def test_a_stop_after_the_indicator_expired_is_not_relayed():
    relays = typing.gate({}, 7, "start", now=10.0, ttl_seconds=5)
    assert typing.gate(relays, 7, "stop", now=15.0, ttl_seconds=5) is None


def test_a_socket_tracks_a_bounded_number_of_conversations():
    relays: dict = {}
    for conversation_id in range(typing.MAX_TRACKED_CONVERSATIONS):
        relays = typing.gate(relays, conversation_id, "start", now=10.0, ttl_seconds=5)
    assert typing.gate(relays, 999, "start", now=10.0, ttl_seconds=5) is None
    assert typing.gate(relays, 999, "start", now=16.0, ttl_seconds=5) == {999: typing.LastRelay("start", 16.0)}


@given(st.lists(st.tuples(st.sampled_from(["start", "stop"]), st.floats(0, 0.5)), max_size=60))
def test_whatever_a_client_sends_starts_are_a_second_apart_and_each_stop_ends_one_start(frames):
    relays, now, relayed = {}, 0.0, []
    for state, gap in frames:
        now += gap
        after = typing.gate(relays, 1, state, now, ttl_seconds=5)
        if after is not None:
            relays = after
            relayed.append((state, now))
    starts = [t for state, t in relayed if state == "start"]
    assert all(later - earlier >= typing.MIN_INTERVAL_SECONDS for earlier, later in zip(starts, starts[1:]))
    states = [state for state, _ in relayed]
    assert all(before == "start" for before, state in zip(["-"] + states, states) if state == "stop")
