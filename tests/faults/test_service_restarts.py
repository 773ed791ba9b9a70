"""RabbitMQ, Redis and PostgreSQL restarted under load: every accepted
message reaches every recipient once, in order, with no gap (promises 1–4).

Each restart uses the commands of scripts/ensure-services.sh and brings the
service back in a `finally` (tests.faults.outages)."""

from __future__ import annotations


import pytest

from tests.faults import outages

pytestmark = [pytest.mark.e2e, pytest.mark.faults]


def check(scenario, accounting):
    assert accounting.problems == [], "\n".join(accounting.problems[:30]) + "\n" + scenario.logs_tail()


def test_a_rabbitmq_restart_under_load_loses_nothing(make_scenario):
    scenario = make_scenario("rabbitmq-restart", messages=240, rate=40)
    edge = scenario.start_edge()
    worker = scenario.start_worker()

    def fault(sc):
        sc.wait_until(lambda: sc.accepted_count() >= 60, "no load")
        sc.note(f"stop_app at {sc.since_start():.1f}s")
        outages.restart_rabbitmq(down_seconds=3)
        sc.note(f"start_app done at {sc.since_start():.1f}s")

    accounting = scenario.run(fault)
    check(scenario, accounting)
    # The same worker process carried on: Dramatiq's consumer reconnected by itself.
    assert worker.popen.poll() is None and len(scenario.workers) == 1
    assert "Restarting consumer" in worker.log()
    # The edge kept answering 202 (a 202 means committed, not published).
    assert accounting.accepted == accounting.sent and edge.process.popen.poll() is None


def test_a_redis_restart_under_load_loses_no_frame_for_online_clients(make_scenario):
    scenario = make_scenario("redis-restart", messages=240, rate=40)
    edge = scenario.start_edge()
    scenario.start_worker()

    def fault(sc):
        sc.wait_until(lambda: sc.accepted_count() >= 60, "no load")
        sc.note(f"redis shutdown at {sc.since_start():.1f}s")
        outages.restart_redis(down_seconds=2)
        sc.note(f"redis back at {sc.since_start():.1f}s")

    accounting = scenario.run(fault)
    check(scenario, accounting)
    assert accounting.accepted == accounting.sent
    assert "ring subscriber lost Redis" in edge.process.log()  # the outage reached the edge


def test_a_postgresql_restart_under_load_answers_5xx_and_loses_nothing_accepted(make_scenario):
    # Twelve seconds of posts: on a busy machine the worker may take several
    # seconds to start, and posts must still be coming when the database goes.
    scenario = make_scenario("postgresql-restart", messages=480, rate=40)
    scenario.start_edge()

    def fault(sc):
        # A backlog for a slow worker, so it is busy when the database goes.
        sc.wait_until(lambda: sc.accepted_count() >= 100, "no load")
        sc.start_worker(threads=1)
        sc.wait_until(lambda: sc.positioned_pairs() >= 10, "the worker never started on the backlog")
        sc.note(f"postgresql stop at {sc.since_start():.1f}s, {sc.positioned_pairs()} pairs positioned")
        outages.restart_postgres(down_seconds=2)
        sc.note(f"postgresql back at {sc.since_start():.1f}s")

    accounting = scenario.run(fault)
    check(scenario, accounting)
    refused = sum(accounting.refused.values()) + accounting.unanswered
    assert refused > 0, "no post met the outage: the scenario tested nothing"
    assert all(status >= 500 for status in accounting.refused), accounting.refused
    assert accounting.worker_retries > 0, "the worker met no outage: the scenario tested nothing"


def test_a_socket_opened_while_redis_is_down_catches_up_without_waiting_for_the_heartbeat(make_scenario):
    """The subscriber's resync, not the heartbeat: with a 60 s heartbeat, a
    user who opens the app while Redis is down, and to whom nothing more is
    sent once Redis is back, must still get every frame soon after."""
    scenario = make_scenario("redis-down-new-sockets", messages=160, rate=40, drain_timeout=15,
                             env={"WS_PING_SECONDS": "60"})
    scenario.start_edge()
    scenario.start_worker()

    def fault(sc):
        sc.wait_until(lambda: sc.accepted_count() >= 30, "no load")
        try:
            outages.stop_redis()
            sc.note(f"redis shutdown at {sc.since_start():.1f}s")
            late = [sc.connect(user_id) for user_id in list(sc.offline[:2])]
            for client in late:
                assert client.ready.wait(15)
            # The load ends and is delivered to the streams while Redis is
            # down: no later ring will reveal a gap to these sockets.
            sc.wait_until(lambda: sc.accepted_count() == sc.messages, "the load never ended")
            sc.wait_until(lambda: sc.positioned_pairs() == sc.expected_pairs(), "the backlog never drained")
        finally:
            outages.start_redis()
        sc.note(f"redis back at {sc.since_start():.1f}s")

    accounting = scenario.run(fault)
    check(scenario, accounting)
