"""The embedded mode (a SQLite file, jobs run in-process): a message with a
ttl is delivered or expired as its ttl says and never holds back the
recipient's other messages; every timestamp an answer or frame carries
has its UTC offset.

SQLite once read timestamps back naive; comparing them with the worker's
aware clock raised, and every delivery to the recipient of a ttl message
failed with it until it was a dead letter.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from config import load_settings
from db.engine import UnitOfWork, make_engine, make_session_factory
from db.migrate import upgrade
from db.models import DeadLetter, Delivery, Message
from tests.conftest import JWT_SECRET
from tests.support.chat import group, job_runner, say
from usecases.messaging.stream import replay


@pytest.fixture
def settings(tmp_path):
    """Embedded settings: no DATABASE_URL, BROKER_URL nor REDIS_URL."""
    settings = load_settings({"HERALD_DATA_DIR": str(tmp_path / "data"), "JWT_SECRET": JWT_SECRET,
                              "RATE_LIMITS": "off", "HERALD_DEMO": "off"})
    assert settings.embedded and settings.database_url.startswith("sqlite:///")
    return settings


@pytest.fixture
def sessions(settings):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def worker(settings, sessions, publisher):
    return job_runner(settings, sessions, publisher)


@pytest.fixture
def business(auth):
    return auth.user("business", username="acme", name="Acme")


def post(client, auth, sender, **body):
    answer = client.post("/v1/messages", json=body, headers=auth.headers(sender))
    assert answer.status_code == 202, answer.json
    return answer.json["id"]


def expire_now(sessions, message_id):
    with UnitOfWork(sessions) as uow:
        uow.session.execute(update(Message).where(Message.id == message_id)
                            .values(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
        uow.commit()


def statuses(sessions, user) -> dict[int, str]:
    with UnitOfWork(sessions) as uow:
        return dict(uow.session.execute(select(Delivery.message_id, Delivery.status)
                                        .where(Delivery.recipient_id == user.id)).all())


def streamed(sessions, user) -> list[int]:
    with UnitOfWork(sessions) as uow:
        return [frame["message"]["id"] for _, frame in replay(uow.session, user.id, 0, datetime.now(timezone.utc))]


def dead_letters(sessions) -> list[DeadLetter]:
    with UnitOfWork(sessions) as uow:
        return uow.session.scalars(select(DeadLetter)).all()


@pytest.fixture
def mailbox(client, auth, business, sessions):
    """Somchai's messages in acceptance order: an expired ttl one, a live ttl
    one, a plain one, a group message, another plain one."""
    somchai, lek = auth.user("mobile", name="Somchai"), auth.user("mobile", name="Lek")
    gone = post(client, auth, business, to=[somchai.id], body="flash sale", ttl_seconds=60)
    expire_now(sessions, gone)
    live = post(client, auth, business, to=[somchai.id], body="code 1234", ttl_seconds=3600)
    plain = post(client, auth, business, to=[somchai.id], body="your parcel left")
    trip = group(client, auth, lek, [somchai])
    chat = say(client, auth, lek, trip, "see you at 9")["id"]
    last = post(client, auth, business, to=[somchai.id], body="your parcel arrived")
    return somchai, lek, {"gone": gone, "live": live, "plain": plain, "chat": chat, "last": last}


def test_a_ttl_message_holds_back_none_of_its_recipients_other_messages(sessions, worker, mailbox):
    somchai, lek, ids = mailbox
    worker()
    assert statuses(sessions, somchai) == {ids["gone"]: "expired", ids["live"]: "sent", ids["plain"]: "sent",
                                           ids["chat"]: "sent", ids["last"]: "sent"}
    assert streamed(sessions, somchai) == [ids["live"], ids["plain"], ids["chat"], ids["last"]]
    assert statuses(sessions, lek)[ids["chat"]] == "read"  # the sender's own copy
    assert dead_letters(sessions) == []


def test_a_later_messages_job_places_the_ttl_messages_it_catches_up(sessions, worker, publisher, mailbox):
    somchai, _, ids = mailbox
    publisher.jobs.reverse()  # the last message's job runs first and catches up the earlier ones
    worker()
    assert statuses(sessions, somchai) == {ids["gone"]: "expired", ids["live"]: "sent", ids["plain"]: "sent",
                                           ids["chat"]: "sent", ids["last"]: "sent"}
    assert set(streamed(sessions, somchai)) == {ids["live"], ids["plain"], ids["chat"], ids["last"]}
    assert dead_letters(sessions) == []


def has_offset(moment: str | None) -> bool:
    return moment is not None and datetime.fromisoformat(moment).utcoffset() is not None


def test_every_timestamp_of_a_message_status_carries_its_utc_offset(client, auth, business, worker):
    somchai = auth.user("mobile")
    message_id = post(client, auth, business, to=[somchai.id], body="hello", ttl_seconds=600)
    worker()
    answer = client.get(f"/v1/messages/{message_id}", headers=auth.headers(business)).json
    (recipient,) = answer["recipients"]
    assert recipient["status"] == "sent"
    for moment in (answer["created_at"], answer["expires_at"], recipient["accepted_at"], recipient["sent_at"]):
        assert has_offset(moment) and moment.endswith("+00:00"), moment


def test_frames_carry_the_utc_offset_too(client, auth, business, sessions, worker):
    somchai = auth.user("mobile")
    post(client, auth, business, to=[somchai.id], body="hello")
    worker()
    with UnitOfWork(sessions) as uow:
        ((_, frame),) = replay(uow.session, somchai.id, 0, datetime.now(timezone.utc))
    assert frame["message"]["created_at"].endswith("+00:00")
