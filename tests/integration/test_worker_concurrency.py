"""Delivery jobs, fan-outs and acks at once on the real PostgreSQL: every
job locks all its streams in one statement (user-id order), so none
deadlocks, and every stream stays gap-free and in acceptance order."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timezone

from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import Delivery, Message, Stream, StreamEvent
from realtime import InProcessPresence, InProcessRealtime
from tests.support.chat import group
from usecases.messaging.deliveries import mark_delivered
from workers.broker import install_ports, worker_ports
from workers.delivery import deliver_message
from workers.fan_out import fan_out_event


def test_concurrent_jobs_and_acks_keep_every_stream_gap_free_in_acceptance_order(
        client, auth, sessions, settings, publisher):
    install_ports(worker_ports(settings, sessions, InProcessRealtime(), InProcessPresence()))
    business = auth.user("business", username="acme")
    users = [auth.user("mobile") for _ in range(6)]
    groups = [group(client, auth, users[0], users[1:4]), group(client, auth, users[2], users[3:6])]
    rng = random.Random(8)
    message_ids = []
    for n in range(60):
        if n % 3 == 0:
            to = sorted(u.id for u in rng.sample(users, 3))
            answer = client.post("/v1/messages", json={"to": to, "body": f"m{n}"}, headers=auth.headers(business))
        else:
            conversation = groups[n % 2]
            sender = users[0] if conversation == groups[0] else users[2]
            answer = client.post(f"/v1/conversations/{conversation}/messages", json={"body": f"m{n}"},
                                 headers=auth.headers(sender))
        assert answer.status_code == 202, answer.json
        message_ids.append(answer.json["id"])
    work = [("deliver", m) for m in message_ids] + [("event", n) for n in range(20)] + [("ack", n) for n in range(20)]
    rng.shuffle(work)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run():
        while True:
            with lock:
                if not work:
                    return
                kind, arg = work.pop()
            try:
                if kind == "deliver":
                    deliver_message.fn(arg)
                elif kind == "event":
                    audience = [u.id for u in rng.sample(users, 4)]
                    fan_out_event.fn(f"e{arg}", "member_joined", {"conversation_id": groups[0], "n": arg}, audience)
                else:
                    user = rng.choice(users)
                    with UnitOfWork(sessions) as uow:
                        mark_delivered(uow.session, user.id, 5, datetime.now(timezone.utc))
                        uow.commit()
            except BaseException as error:  # noqa: BLE001 — reported below
                errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    with UnitOfWork(sessions) as uow:
        for user in users:
            deliveries = uow.session.execute(
                select(Delivery.position, Delivery.message_id, Message.conversation_id)
                .join(Message, Message.id == Delivery.message_id)
                .where(Delivery.recipient_id == user.id).order_by(Delivery.position)).all()
            assert all(position is not None for position, _, _ in deliveries)
            events = list(uow.session.scalars(select(StreamEvent.position).where(StreamEvent.user_id == user.id)))
            positions = sorted([p for p, _, _ in deliveries] + events)
            assert positions == list(range(1, len(positions) + 1))
            # Acceptance order among the one-way messages, and within each
            # conversation (a chat message's rows are made by its job, D21).
            for key in {c for _, _, c in deliveries}:
                ids = [m for _, m, c in deliveries if c == key]
                assert ids == sorted(ids)
            assert uow.session.get(Stream, user.id).last_position == len(positions)
