"""The per-recipient status machine only moves forward."""

from hypothesis import given
from hypothesis import strategies as st

from pipeline import status

statuses = st.sampled_from(status.ALL)


@given(st.lists(statuses, max_size=30))
def test_applying_events_in_any_order_never_moves_a_status_backwards(events):
    current = status.ACCEPTED
    for event in events:
        after = status.advance(current, event)
        if after != current:
            assert status.can_advance(current, after)
        if current in status.PROGRESS and after in status.PROGRESS:
            assert status.PROGRESS.index(after) >= status.PROGRESS.index(current)
        current = after


@given(st.lists(statuses, max_size=30))
def test_terminal_statuses_are_never_left(events):
    for terminal in status.TERMINAL_FAILURES + (status.READ,):
        current = terminal
        for event in events:
            current = status.advance(current, event)
        assert current == terminal


@given(st.permutations(list(status.PROGRESS)))
def test_the_furthest_progress_wins_whatever_the_arrival_order(events):
    current = status.ACCEPTED
    for event in events:
        current = status.advance(current, event)
    assert current == status.READ


def test_a_delivered_message_can_no_longer_fail_or_expire():
    assert not status.can_advance(status.DELIVERED, status.FAILED)
    assert not status.can_advance(status.DELIVERED, status.EXPIRED)
    assert status.can_advance(status.SENT, status.EXPIRED)


def test_predecessors_are_exactly_the_statuses_that_may_advance():
    assert status.predecessors(status.DELIVERED) == {status.ACCEPTED, status.QUEUED, status.SENT}
    assert status.predecessors(status.QUEUED) == {status.ACCEPTED}
    assert status.predecessors(status.ACCEPTED) == frozenset()


def test_unknown_statuses_are_refused():
    import pytest

    with pytest.raises(ValueError):
        status.advance("lost", status.SENT)
