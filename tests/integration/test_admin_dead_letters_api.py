"""The admin dead-letter API on the real PostgreSQL: who may call it,
filters and pages, requeue (published, audited, deliveries reset, once),
bulk requeue, discard — and that every answer matches the OpenAPI document."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from usecases.operations.dead_letters import FailedJob, record_dead_letter
from db.engine import UnitOfWork
from db.models import AuditEntry, DeadLetter, Delivery, Outbox
from pipeline.contract import delivery_queue
from pipeline.contract import DELIVER_MESSAGE, PUSH_QUEUE
from realtime import InProcessRealtime
from tests.integration.test_openapi import _Contract
from web.blueprints.apidocs import spec
from workers.broker import install_ports, worker_ports
from workers.delivery import deliver_message

BASE = "/v1/admin/dead-letters"
QUEUE = delivery_queue("normal", 1)
NOW = datetime.now(timezone.utc)


def kill(sessions, *, args=(424242,), queue=QUEUE, actor=DELIVER_MESSAGE, reason="MessageNotFound",
         age_seconds=0) -> int:
    """Record a dead letter as the worker middleware would; its id."""
    job = FailedJob(uuid.uuid4().hex, queue, actor, list(args), reason, 3, "first: boom\nTraceback…",
                    "last: boom\nTraceback…", NOW - timedelta(seconds=age_seconds + 5))
    with UnitOfWork(sessions) as uow:
        record_dead_letter(uow.session, job, NOW - timedelta(seconds=age_seconds))
        uow.commit()
        return uow.session.scalar(select(DeadLetter.id).where(DeadLetter.job_id == job.job_id))


def rows(sessions, model):
    with UnitOfWork(sessions) as uow:
        return uow.session.scalars(select(model).order_by(model.id)).all()


@pytest.fixture
def admin(auth):
    return auth.headers(auth.user("admin", username="root"))


@pytest.fixture
def contract():
    return _Contract(spec())


@pytest.fixture
def sent(client, auth):
    """A message from a business to two mobile users; (business, message id)."""
    business = auth.user("business", username="acme")
    to = [auth.user("mobile").id, auth.user("mobile").id]
    return business, client.post("/v1/messages", json={"to": to, "body": "hi"}, headers=auth.headers(business)).json["id"]


def test_only_admins_may_use_any_endpoint(client, auth, sessions, admin, contract):
    callers = {"anonymous": ({}, 401), "mobile": (auth.headers(auth.user("mobile")), 403),
               "business": (auth.headers(auth.user("business")), 403), "admin": (admin, 200)}
    for who, (headers, expected) in callers.items():
        letter = kill(sessions)
        for method, path, spec_path, body in [
                ("get", BASE, BASE, None),
                ("get", f"{BASE}/{letter}", BASE + "/{letter_id}", None),
                ("post", f"{BASE}/requeue", BASE + "/requeue", {"ids": [letter]}),
                ("post", f"{BASE}/{kill(sessions)}/requeue", BASE + "/{letter_id}/requeue", None),
                ("post", f"{BASE}/{kill(sessions)}/discard", BASE + "/{letter_id}/discard", None)]:
            response = getattr(client, method)(path, json=body, headers=headers)
            assert response.status_code == expected, (who, method, path, response.json)
            contract.check(response, method, spec_path)


def test_unknown_ids_are_404(client, admin, sessions, contract):
    for method, path in [("get", "/{letter_id}"), ("post", "/{letter_id}/requeue"), ("post", "/{letter_id}/discard")]:
        response = getattr(client, method)(BASE + path.replace("{letter_id}", "999999"), headers=admin)
        contract.check(response, method, BASE + path, "not_found")


def test_the_list_filters_by_queue_reason_sender_age_and_state_newest_first(client, admin, sessions, sent):
    business, message_id = sent
    old = kill(sessions, reason="DependencyUnavailable", age_seconds=7200)
    push = kill(sessions, queue=PUSH_QUEUE, actor="send_push", reason="PushRejected", age_seconds=60)
    mine = kill(sessions, args=(message_id,), reason="DependencyUnavailable", age_seconds=30)
    gone = kill(sessions)
    client.post(f"{BASE}/{gone}/discard", headers=admin)

    def ids(**query):
        response = client.get(BASE, query_string=query, headers=admin)
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]

    assert ids() == [mine, push, old]
    assert ids(queue=PUSH_QUEUE) == [push]
    assert ids(reason="DependencyUnavailable") == [mine, old]
    assert ids(sender_id=business.id) == [mine]
    assert ids(older_than_seconds=3600) == [old]
    assert ids(newer_than_seconds=3600) == [mine, push]
    assert ids(state="discarded") == [gone]
    assert ids(state="any") == [gone, mine, push, old]
    assert ids(queue="", reason="") == [mine, push, old]  # empty form fields mean "any"


def test_pages_follow_opaque_cursors_to_the_end(client, admin, sessions, contract):
    made = [kill(sessions, age_seconds=age) for age in range(5, 0, -1)]
    seen, cursor = [], None
    while True:
        page = contract.check(client.get(BASE, query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                                         headers=admin), "get", BASE).json
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made[::-1]
    contract.check(client.get(BASE, query_string={"cursor": "not-ours"}, headers=admin), "get", BASE, "bad_request")
    contract.check(client.get(BASE, query_string={"limit": 0}, headers=admin), "get", BASE, "validation_failed")
    contract.check(client.get(BASE, query_string={"state": "alive"}, headers=admin), "get", BASE, "validation_failed")


def test_a_dead_letter_shows_its_args_errors_attempts_and_times(client, admin, sessions, sent, contract):
    business, message_id = sent
    letter = kill(sessions, args=(message_id,), reason="DependencyUnavailable")
    detail = contract.check(client.get(f"{BASE}/{letter}", headers=admin), "get", BASE + "/{letter_id}").json
    assert detail["args"] == [message_id] and detail["attempts"] == 3 and detail["state"] == "dead"
    assert (detail["message_id"], detail["sender_id"]) == (message_id, business.id)
    assert detail["first_error"].startswith("first: boom") and detail["last_error"].startswith("last: boom")
    assert detail["last_error_line"] == "last: boom"
    assert detail["first_failed_at"] < detail["created_at"] and detail["history"] == []


def test_requeue_publishes_the_job_resets_its_failed_deliveries_audits_and_delivers_once(
        client, auth, admin, sessions, sent, publisher, contract, settings):
    business, message_id = sent
    letter = kill(sessions, args=(message_id,), reason="DependencyUnavailable")
    assert [d.status for d in rows(sessions, Delivery)] == ["failed", "failed"]
    answer = contract.check(client.post(f"{BASE}/{letter}/requeue", headers=admin), "post",
                            BASE + "/{letter_id}/requeue").json
    assert answer["state"] == "requeued"
    (job,) = publisher.jobs[1:]  # the first is the send's own
    assert (job.queue_name, job.actor_name, job.args, job.outbox_id) == (
        QUEUE, DELIVER_MESSAGE, (message_id,), answer["outbox_id"])
    assert rows(sessions, Outbox)[-1].message_id == message_id
    assert [d.status for d in rows(sessions, Delivery)] == ["accepted", "accepted"]
    audit = [(a.action, a.target_id, a.details["via"]) for a in rows(sessions, AuditEntry)]
    assert audit == [("dead_letter.requeue", str(letter), "api"), ("deliveries.reset_failed", str(message_id), "api")]
    assert rows(sessions, AuditEntry)[0].actor_id is not None
    again = client.post(f"{BASE}/{letter}/requeue", headers=admin)
    contract.check(again, "post", BASE + "/{letter_id}/requeue", "dead_letter_resolved")
    assert again.status_code == 409 and len(publisher.jobs) == 2
    install_ports(worker_ports(settings, sessions, InProcessRealtime()))
    deliver_message.fn(message_id)
    deliver_message.fn(message_id)  # a duplicate publish changes nothing
    assert [(d.status, d.position) for d in rows(sessions, Delivery)] == [("sent", 1), ("sent", 1)]


def test_bulk_requeue_by_ids_counts_what_it_skipped(client, admin, sessions, publisher, contract):
    first, second, done = kill(sessions), kill(sessions), kill(sessions)
    client.post(f"{BASE}/{done}/discard", headers=admin)
    answer = contract.check(client.post(f"{BASE}/requeue", json={"ids": [first, second, done, 999999]},
                                        headers=admin), "post", BASE + "/requeue").json
    assert answer == {"requeued": 2, "skipped": 2, "ids": [second, first], "truncated": False}
    assert len(publisher.jobs) == 2


def test_bulk_requeue_by_filter_takes_only_dead_matching_letters(client, admin, sessions, publisher, contract):
    push = kill(sessions, queue=PUSH_QUEUE, actor="send_push", args=(1, 2), reason="PushRejected")
    kill(sessions, reason="PushRejected")
    answer = contract.check(client.post(f"{BASE}/requeue", json={"filter": {"queue": PUSH_QUEUE}}, headers=admin),
                            "post", BASE + "/requeue").json
    assert answer == {"requeued": 1, "skipped": 0, "ids": [push], "truncated": False}
    assert [(j.queue_name, j.actor_name, j.args) for j in publisher.jobs] == [(PUSH_QUEUE, "send_push", (1, 2))]
    assert client.post(f"{BASE}/requeue", json={"filter": {"queue": PUSH_QUEUE}}, headers=admin).json["requeued"] == 0
    for body in ({}, {"ids": [1], "filter": {}}, {"ids": []}, {"filter": {"colour": "red"}}):
        contract.check(client.post(f"{BASE}/requeue", json=body, headers=admin), "post", BASE + "/requeue",
                       "validation_failed")


def test_discard_resolves_the_letter_for_good(client, admin, sessions, sent, publisher, contract):
    _, message_id = sent
    letter = kill(sessions, args=(message_id,))
    answer = contract.check(client.post(f"{BASE}/{letter}/discard", headers=admin), "post",
                            BASE + "/{letter_id}/discard").json
    assert answer["state"] == "discarded"
    assert [d.status for d in rows(sessions, Delivery)] == ["failed", "failed"]
    for action in ("discard", "requeue"):
        contract.check(client.post(f"{BASE}/{letter}/{action}", headers=admin), "post",
                       BASE + "/{letter_id}/" + action, "dead_letter_resolved")
    history = client.get(f"{BASE}/{letter}", headers=admin).json["history"]
    assert [(h["action"], h["details"]["via"]) for h in history] == [("dead_letter.discard", "api")]
    assert len(publisher.jobs) == 1  # only the send's own
