"""A poison message — one that fails every time — ends as one visible dead
letter with its reason, and does not hold up the messages queued behind it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests
from sqlalchemy import text

pytestmark = [pytest.mark.e2e, pytest.mark.faults]


def a_recipient_without_a_stream(engine) -> int:
    """Damaged data: a mobile user whose stream row is missing, so every
    attempt to deliver to them fails (a transient-looking error, retried)."""
    with engine.begin() as conn:
        return conn.execute(text("INSERT INTO users (role, phone, created_at, hide_last_seen) "
                                 "VALUES ('mobile', '+66829999999', :now, false) RETURNING id"),
                            {"now": datetime.now(timezone.utc)}).scalar_one()


def test_a_poison_message_is_one_dead_letter_and_does_not_block_its_partition(make_scenario):
    # One partition per lane: the poison shares its queue with every other message.
    scenario = make_scenario("poison", messages=200, rate=100, env={
        "DELIVERY_PARTITIONS": "1", "RETRY_MAX": "2", "RETRY_MIN_BACKOFF_MS": "300", "RETRY_MAX_BACKOFF_MS": "600"})
    scenario.start_edge()
    scenario.start_worker()
    victim = a_recipient_without_a_stream(scenario.engine)

    def fault(sc):
        sent = requests.post(f"{sc.post_edge.base_url}/v1/messages", json={"to": [victim], "body": "poison"},
                             headers={"Authorization": f"Bearer {sc.business_token}"}, timeout=10)
        assert sent.status_code == 202
        sc.poison.append(sent.json()["id"])
        sc.note(f"poison message {sent.json()['id']} posted at {sc.since_start():.1f}s")

    accounting = scenario.run(fault)
    assert accounting.problems == [], "\n".join(accounting.problems[:30])
    scenario.wait_until(lambda: _dead_letters(scenario), "the poison never became a dead letter", timeout=30)
    (reason, attempts, message_id, state), = _dead_letters(scenario)
    assert (message_id, state, attempts) == (scenario.poison[0], "dead", 3)  # the first try and 2 retries
    assert reason == "NoResultFound"


def _dead_letters(scenario):
    with scenario.engine.connect() as conn:
        return conn.execute(text("SELECT reason, attempts, message_id, state FROM dead_letters")).all()
