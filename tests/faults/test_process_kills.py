"""`kill -9` of a worker or an edge under load: every accepted message
reaches every recipient once, in order, with no gap (promises 1–4)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.faults]


def check(scenario, accounting):
    assert accounting.problems == [], "\n".join(accounting.problems[:30]) + "\n" + scenario.logs_tail()


def test_a_worker_killed_mid_backlog_loses_and_duplicates_nothing(make_scenario):
    scenario = make_scenario("worker-kill", messages=300, rate=100)
    scenario.start_edge()

    def fault(sc):
        # No worker yet: a backlog builds up in RabbitMQ.
        sc.wait_until(lambda: sc.accepted_count() >= 120, "no backlog")
        first = sc.start_worker()
        sc.wait_until(lambda: sc.positioned_pairs() >= 40, "the worker never started on the backlog")
        sc.kill(first)
        positioned, pending = sc.positioned_pairs(), sc.expected_pairs()
        sc.note(f"worker killed at {sc.since_start():.1f}s: {positioned}/{pending} pairs positioned")
        assert positioned < pending, "the worker finished the backlog before it was killed"
        sc.start_worker()

    accounting = scenario.run(fault)
    check(scenario, accounting)


def test_an_edge_killed_with_posts_in_flight_loses_nothing_it_accepted(make_scenario):
    scenario = make_scenario("edge-kill-posts", messages=300, posters=6, rate=150)
    scenario.start_edge()
    scenario.start_worker()

    def fault(sc):
        sc.wait_until(lambda: sc.accepted_count() >= 100, "no load")
        sc.edge_up.clear()  # posters that lose their answer wait for the new edge
        sc.kill(sc.post_edge.process)
        sc.note(f"edge killed at {sc.since_start():.1f}s after {sc.accepted_count()} 202s")
        fresh = sc.start_edge()
        sc.post_edge = sc.client_edge = fresh
        sc.edge_up.set()

    accounting = scenario.run(fault)
    check(scenario, accounting)


def test_clients_of_a_killed_edge_reconnect_to_another_and_miss_nothing(make_scenario):
    scenario = make_scenario("edge-kill-sockets", messages=300, rate=100)
    sockets = scenario.start_edge("edge-sockets")
    scenario.post_edge = scenario.start_edge("edge-posts")
    scenario.start_worker()

    def fault(sc):
        sc.wait_until(lambda: sc.accepted_count() >= 120, "no load")
        sc.kill(sockets.process)
        sc.client_edge = sc.post_edge  # clients reconnect to the surviving edge
        sc.note(f"socket edge killed at {sc.since_start():.1f}s")

    accounting = scenario.run(fault)
    check(scenario, accounting)
    assert accounting.reconnects >= len(scenario.online)


def test_a_worker_stopped_with_sigterm_mid_backlog_exits_cleanly_and_loses_nothing(make_scenario):
    import os
    import signal

    scenario = make_scenario("worker-sigterm", messages=300, rate=100)
    scenario.start_edge()

    def fault(sc):
        sc.wait_until(lambda: sc.accepted_count() >= 120, "no backlog")
        first = sc.start_worker()
        sc.wait_until(lambda: sc.positioned_pairs() >= 40, "the worker never started on the backlog")
        os.kill(first.popen.pid, signal.SIGTERM)  # dramatiq's main process: a graceful stop
        assert first.popen.wait(30) == 0, first.log()[-2000:]
        sc.note(f"worker stopped by SIGTERM at {sc.since_start():.1f}s with "
                f"{sc.positioned_pairs()}/{sc.expected_pairs()} pairs positioned")
        sc.start_worker()

    accounting = scenario.run(fault)
    check(scenario, accounting)
