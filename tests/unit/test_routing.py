"""Priority lanes and stable partitions."""

import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import contract as routing


@given(st.one_of(st.integers(), st.text()), st.integers(min_value=1, max_value=64))
def test_a_key_always_maps_to_the_same_partition_in_range(key, partitions):
    first = routing.partition_for(key, partitions)
    assert 0 <= first < partitions
    assert routing.partition_for(key, partitions) == first


def test_partitions_are_stable_across_processes():
    # crc32 values are fixed; Python's hash() would change per process.
    assert [routing.partition_for(k, 8) for k in (1, 2, 3, "conv-9")] == [
        routing.partition_for(k, 8) for k in ("1", "2", "3", "conv-9")]
    assert routing.partition_for(42, 8) == zlib.crc32(b"42") % 8 == 0


def test_keys_spread_over_all_partitions():
    seen = {routing.partition_for(user_id, 4) for user_id in range(1000)}
    assert seen == {0, 1, 2, 3}


def test_priorities_are_names_not_integers():
    assert routing.delivery_queue("high", 3) == "delivery.high.p3"
    with pytest.raises(ValueError):
        routing.delivery_queue(5, 0)
    with pytest.raises(ValueError):
        routing.delivery_queue("urgent", 0)


def test_every_lane_has_every_partition_high_first():
    queues = routing.delivery_queues(2)
    assert queues == ["delivery.high.p0", "delivery.high.p1", "delivery.normal.p0",
                      "delivery.normal.p1", "delivery.low.p0", "delivery.low.p1"]


def test_operator_partition_lists_are_parsed_and_checked():
    assert routing.parse_partitions("0-2,5", 8) == [0, 1, 2, 5]
    with pytest.raises(ValueError):
        routing.parse_partitions("6-9", 8)
