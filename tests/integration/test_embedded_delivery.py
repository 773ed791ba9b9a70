"""The worker's batched statements on SQLite (embedded mode): the stream
locks (a no-op UPDATE … RETURNING there), positions by executemany, chat
rows by INSERT … SELECT, events in one insert, push jobs only for
recipients with a device."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import Delivery, Outbox, Stream
from tests.integration.test_embedded_ttl import business, sessions, settings, worker  # noqa: F401  (fixtures)
from tests.support.chat import group, say
from usecases.messaging.stream import replay


def frames(sessions, user) -> list[tuple[int, dict]]:
    with UnitOfWork(sessions) as uow:
        return replay(uow.session, user.id, 0, datetime.now(timezone.utc))


def test_chat_messages_events_and_pushes_on_sqlite(client, auth, business, sessions, worker):  # noqa: F811
    owner, with_device, without = (auth.user("mobile") for _ in range(3))
    assert client.post("/v1/devices", json={"platform": "android", "token": "tok-1"},
                       headers=auth.headers(with_device)).status_code == 201
    trip = group(client, auth, owner, [with_device, without])
    first = say(client, auth, owner, trip, "hello")["id"]
    second = say(client, auth, with_device, trip, "hi")["id"]
    oneway = client.post("/v1/messages", json={"to": [without.id], "body": "parcel"},
                         headers=auth.headers(business)).json["id"]
    worker()
    assert client.put(f"/v1/messages/{first}/reactions/{quote('👍')}",
                       headers=auth.headers(without)).status_code in (200, 201)
    worker()
    with UnitOfWork(sessions) as uow:
        rows = {(d.message_id, d.recipient_id): (d.position, d.status)
                for d in uow.session.scalars(select(Delivery))}
        ends = {s.user_id: s.last_position for s in uow.session.scalars(select(Stream))}
        pushes = [tuple(o.args) for o in uow.session.scalars(
            select(Outbox).where(Outbox.actor_name == "send_push").order_by(Outbox.id))]
    assert rows[(first, owner.id)] == (1, "read")  # the sender's own copy
    assert rows[(second, with_device.id)] == (2, "read")
    assert rows[(first, with_device.id)] == (1, "sent") and rows[(second, owner.id)] == (2, "sent")
    assert [rows[(m, without.id)] for m in (first, second, oneway)] == [(1, "sent"), (2, "sent"), (3, "sent")]
    for user, items in ((owner, 3), (with_device, 3), (without, 4)):  # the messages and the reaction
        positions = [position for position, _ in frames(sessions, user)]
        assert positions == list(range(1, ends[user.id] + 1)) and len(positions) == items
    assert pushes == [(first, [with_device.id])]  # the one offline member with a device, of the owner's message
