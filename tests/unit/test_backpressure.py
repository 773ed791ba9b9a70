"""Backpressure refuses the lowest priorities first."""

from hypothesis import given
from hypothesis import strategies as st

from pipeline.backpressure import refusal_retry_after

SOFT, HARD = 10_000, 100_000


def test_low_is_refused_first_then_normal_and_high_only_at_the_hard_limit():
    assert [refusal_retry_after(p, 9_999, SOFT, HARD) for p in ("low", "normal", "high")] == [None] * 3
    assert refusal_retry_after("low", 10_000, SOFT, HARD) is not None
    assert refusal_retry_after("normal", 10_000, SOFT, HARD) is None
    assert refusal_retry_after("normal", 20_000, SOFT, HARD) is not None
    assert refusal_retry_after("high", 99_999, SOFT, HARD) is None
    assert refusal_retry_after("high", 100_000, SOFT, HARD) is not None


@given(st.integers(min_value=0, max_value=10**7), st.sampled_from(["low", "normal", "high"]))
def test_a_refusal_always_says_how_long_to_wait_within_a_minute(depth, priority):
    wait = refusal_retry_after(priority, depth, SOFT, HARD)
    assert wait is None or 1 <= wait <= 60


@given(st.integers(min_value=0, max_value=10**7))
def test_whenever_high_is_refused_so_are_the_others(depth):
    if refusal_retry_after("high", depth, SOFT, HARD) is not None:
        assert refusal_retry_after("normal", depth, SOFT, HARD) is not None
        assert refusal_retry_after("low", depth, SOFT, HARD) is not None
