"""Rules of edits, deletes and reactions (pure)."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import message_changes as rules
from pipeline.errors import (EditWindowPassed, InvalidEmoji, MessageDeleted, MessageReadOnly, NotSender,
                             ValidationFailed)
from pipeline.reactions import MAX_REACTIONS_PER_PERSON, check_emoji, check_reaction_limit

NOW = datetime(2025, 5, 1, 9, 30, tzinfo=timezone.utc)


def edit(**overrides):
    facts = {"is_sender": True, "deleted": False, "created_at": NOW - timedelta(seconds=60), "now": NOW,
             "window_seconds": 900}
    rules.check_edit(**{**facts, **overrides})


def test_the_sender_edits_a_live_message_inside_the_window():
    edit()
    edit(created_at=NOW - timedelta(seconds=900))


@pytest.mark.parametrize("overrides, error", [
    ({"is_sender": False}, NotSender),
    ({"is_sender": False, "deleted": True}, NotSender),  # who asks is checked first
    ({"deleted": True}, MessageDeleted),
    ({"deleted": True, "created_at": NOW - timedelta(days=1)}, MessageDeleted),
    ({"created_at": NOW - timedelta(seconds=901)}, EditWindowPassed),
])
def test_edits_are_refused(overrides, error):
    with pytest.raises(error):
        edit(**overrides)


@pytest.mark.parametrize("is_sender, role, kind, allowed", [
    (True, "member", "direct", True), (True, "member", "group", True),
    (False, "member", "direct", False), (False, "member", "group", False),
    (False, "admin", "group", True), (False, "owner", "group", True),
])
def test_who_deletes(is_sender, role, kind, allowed):
    if allowed:
        rules.check_delete(is_sender=is_sender, role=role, conversation_kind=kind)
    else:
        with pytest.raises(NotSender):
            rules.check_delete(is_sender=is_sender, role=role, conversation_kind=kind)


def test_one_way_messages_are_read_only():
    rules.check_changeable("chat")
    with pytest.raises(MessageReadOnly):
        rules.check_changeable("oneway")


@given(st.lists(st.integers(min_value=-5, max_value=5), min_size=1, max_size=20))
def test_edited_at_strictly_increases_whatever_the_clock_does(steps):
    clock, previous = NOW, None
    for step in steps:
        clock += timedelta(microseconds=step)
        stamp = rules.next_edited_at(clock, previous)
        assert previous is None or stamp > previous
        previous = stamp


@pytest.mark.parametrize("emoji", ["👍", "❤️", "❤", "🏃🏽‍♀️", "👨‍👩‍👧", "🏳️‍🌈", "🇹🇭", "1️⃣", "#⃣",
                                   "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
                                   ":thumbsup:", ":+1:", "👍🏽", "✅", "🫠"])
def test_one_emoji_or_a_shortcode_is_a_reaction(emoji):
    assert check_emoji(emoji) == emoji


@pytest.mark.parametrize("text", ["", "a", "ok", "👍👍", "::", ":Thumbs:", "👍 ", "🇹", "🏽", "\u200d", "1",
                                  ":" + "a" * 31 + ":", "<script>", "👍\u200d"])
def test_anything_else_is_not(text):
    with pytest.raises(InvalidEmoji):
        check_emoji(text)


@given(st.text(max_size=40))
def test_whatever_is_accepted_fits_the_column(text):
    try:
        assert 1 <= len(check_emoji(text)) <= 32
    except InvalidEmoji:
        pass


def test_one_person_places_a_bounded_number_of_reactions():
    check_reaction_limit(MAX_REACTIONS_PER_PERSON - 1)
    with pytest.raises(ValidationFailed):
        check_reaction_limit(MAX_REACTIONS_PER_PERSON)


def test_times_read_back_from_sqlite_without_an_offset_count_as_utc():
    naive = (NOW - timedelta(seconds=60)).replace(tzinfo=None)
    edit(created_at=naive)
    with pytest.raises(EditWindowPassed):
        edit(created_at=naive - timedelta(hours=1))
    assert rules.next_edited_at(NOW, NOW.replace(tzinfo=None)) == NOW + rules.EDIT_TICK
