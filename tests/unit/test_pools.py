"""Worker pools consume exactly their queues."""

import pytest

from pipeline.pools import pool_queues


def test_a_delivery_pool_takes_the_chosen_lanes_and_partitions():
    assert pool_queues("delivery", 4, "0-1", ("high",)) == ["delivery.high.p0", "delivery.high.p1"]
    assert len(pool_queues("delivery", 4)) == 12


def test_the_push_and_webhooks_pools_have_their_own_queues_and_all_takes_every_queue():
    assert pool_queues("push", 4) == ["push"]
    assert pool_queues("webhooks", 4) == ["webhooks"]
    assert pool_queues("all", 2)[-2:] == ["push", "webhooks"]
    assert len(pool_queues("all", 2)) == 8


def test_there_is_no_maintenance_pool_the_tick_runs_beside_every_worker():
    with pytest.raises(ValueError):
        pool_queues("maintenance", 4)


@pytest.mark.parametrize("args", [("mail", 4, None, ("high",)), ("delivery", 4, "4", ("high",)),
                                  ("delivery", 4, None, ("urgent",))])
def test_unknown_pools_lanes_and_partitions_are_refused(args):
    with pytest.raises(ValueError):
        pool_queues(*args)
