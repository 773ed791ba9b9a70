"""Failure notes and list cursors: pure rules of the dead-letter work."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.cursors import decode_cursor, encode_cursor
from pipeline.errors import BadRequest
from pipeline.failures import REPR_LIMIT, TRACEBACK_LIMIT, error_text, note_failure


def test_error_text_keeps_the_repr_and_the_end_of_a_long_traceback():
    text = error_text("ValueError('x')", "Traceback\n" + "frame\n" * 2000 + "ValueError: x")
    assert text.startswith("ValueError('x')\n\n…")
    assert text.endswith("ValueError: x")
    assert len(text) <= REPR_LIMIT + TRACEBACK_LIMIT + 10


def test_error_text_bounds_a_huge_repr():
    assert len(error_text("x" * 100_000, "")) == REPR_LIMIT + 1


def test_failures_keep_the_first_and_the_last_and_count_attempts():
    record = None
    for attempt in range(1, 4):
        record = note_failure(record, reason=f"E{attempt}", text=f"error {attempt}", at_ms=attempt * 1000)
    assert record == {"first_error": "error 1", "first_failed_at_ms": 1000, "attempts": 3, "reason": "E3",
                      "last_error": "error 3", "last_failed_at_ms": 3000}


def test_noting_a_failure_does_not_change_the_old_record():
    old = note_failure(None, reason="E", text="one", at_ms=1)
    note_failure(old, reason="E", text="two", at_ms=2)
    assert old["attempts"] == 1 and old["last_error"] == "one"


@given(st.datetimes(timezones=st.just(timezone.utc)), st.integers(min_value=1, max_value=2**63 - 1))
def test_a_cursor_decodes_to_what_it_encodes(created_at, row_id):
    assert decode_cursor(encode_cursor(created_at, row_id)) == (created_at, row_id)


@pytest.mark.parametrize("cursor", ["", "not-ours", "W10", encode_cursor(datetime.now(timezone.utc), 1)[:-3],
                                    "WyJ4IiwxXQ", "WyIyMDI1LTAxLTAxIiwieCJd"])
def test_a_cursor_that_is_not_ours_is_a_bad_request(cursor):
    with pytest.raises(BadRequest):
        decode_cursor(cursor)
