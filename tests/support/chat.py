"""Chat helpers for integration tests: conversations over HTTP, jobs run in-process."""

from __future__ import annotations

from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import StreamEvent
from realtime import InProcessRealtime
from workers.broker import install_ports, worker_ports
from workers.delivery import deliver_message
from workers.fan_out import fan_out_event


def job_runner(settings, sessions, publisher):
    """Runs every job the edge published, in order, in this process (the `worker` fixture)."""
    install_ports(worker_ports(settings, sessions, InProcessRealtime()))
    actors = {"deliver_message": deliver_message.fn, "fan_out_event": fan_out_event.fn}

    def run():
        while publisher.jobs:
            job = publisher.jobs.pop(0)
            actors[job.actor_name](*job.args)
    return run


def direct(client, auth, me, other) -> int:
    answer = client.post("/v1/conversations", json={"kind": "direct", "with": other.id}, headers=auth.headers(me))
    assert answer.status_code in (200, 201), answer.json
    return answer.json["id"]


def group(client, auth, owner, members, title: str = "Trip") -> int:
    answer = client.post("/v1/conversations", json={"kind": "group", "title": title,
                                                    "members": [m.id for m in members]}, headers=auth.headers(owner))
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def say(client, auth, sender, conversation_id: int, body: str = "hi"):
    answer = client.post(f"/v1/conversations/{conversation_id}/messages", json={"body": body},
                         headers=auth.headers(sender))
    assert answer.status_code == 202, answer.json
    return answer.json


def events_of(sessions, user) -> list[tuple[str, dict]]:
    """The stream events of a user, in stream order: (kind, payload)."""
    with UnitOfWork(sessions) as uow:
        rows = uow.session.scalars(select(StreamEvent).where(StreamEvent.user_id == user.id)
                                   .order_by(StreamEvent.position)).all()
        return [(e.kind, e.payload) for e in rows]
