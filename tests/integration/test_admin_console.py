"""The admin console's message and conversation pages on the real
PostgreSQL: the search use cases, a message's story (timelines, pushes,
jobs, dead letters), close and reopen, and who may reach which page."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import AuditEntry, Conversation, StreamEvent
from pipeline.errors import PushTokenUnregistered
from pipeline.push import PushPayload
from tests.integration.test_admin_dead_letters_api import kill
from tests.integration.test_admin_pages import PASSWORD, csrf_of, log_in
from tests.integration.webhook_support import WEBHOOK_ENV, pump
from tests.support.chat import group, job_runner, say
from tests.support.webhook_receiver import start_receiver
from usecases.accounts.passwords import hash_password
from usecases.messaging.acks import record_acks
from usecases.messaging.deliver import deliver_message
from usecases.messaging.push import send_push
from usecases.operations.conversation_admin import ConversationQuery, search_conversations
from usecases.operations.message_search import MessageQuery, search_messages
from usecases.operations.message_story import message_story
from usecases.outbox import make_marker
from workers.webhook_http import RequestsWebhookClient


class Provider:
    """The push provider's answers (FCM cannot run here): one dead token, the rest taken."""

    def __init__(self, dead_token: str):
        self.dead_token, self.sent = dead_token, []

    def send(self, payload: PushPayload) -> str:
        if payload.token == self.dead_token:
            raise PushTokenUnregistered("Requested entity was not found.")
        self.sent.append(payload.token)
        return "sent"


@pytest.fixture
def env(env):
    return {**env, **WEBHOOK_ENV}  # a webhook receiver on this machine, over http


@pytest.fixture
def ports(app):
    return app.extensions["herald"].ports


@pytest.fixture
def admin(auth):
    return auth.user("admin", username="root", name="Root", password_hash=hash_password(PASSWORD))


@pytest.fixture
def logged_in(client, admin):
    assert log_in(client).status_code == 302
    return client


def register(client, auth, user, token):
    assert client.post("/v1/devices", json={"platform": "android", "token": token},
                       headers=auth.headers(user)).status_code == 201


def send(client, auth, sender, to, body="Your parcel is on its way", **extra):
    answer = client.post("/v1/messages", json={"to": to, "body": body, **extra}, headers=auth.headers(sender))
    assert answer.status_code == 202, answer.json
    return answer.json["id"]


def publish(sessions, publisher):
    """RabbitMQ confirmed what the edge submitted (the edge publisher's marker)."""
    make_marker(sessions, lambda: datetime.now(timezone.utc))([job.outbox_id for job in publisher.jobs])
    publisher.jobs.clear()


def timeline(story, user) -> dict:
    return next(r for r in story["recipients"] if r["user_id"] == user.id)


def test_a_message_story_tells_why_each_recipient_was_or_was_not_notified(client, auth, sessions, ports, publisher):
    shop = auth.user("business", username="shop")
    reader, pruned, pushed, deviceless = (auth.user("mobile") for _ in range(4))
    register(client, auth, pruned, "dead-token")
    register(client, auth, pushed, "live-token")
    message_id = send(client, auth, shop, [u.phone for u in (reader, pruned, pushed, deviceless)])

    story = message_story(ports, message_id)
    assert {r["status"] for r in story["recipients"]} == {"accepted"}
    assert timeline(story, reader)["why"]["tone"] == "waiting"
    assert "not published" in timeline(story, reader)["why"]["text"]
    publish(sessions, publisher)
    assert message_story(ports, message_id)["status_counts"] == [("queued", 4)]

    deliver_message(ports, message_id, datetime.now(timezone.utc))
    (push_job,) = [job for job in publisher.jobs if job.actor_name == "send_push"]
    provider = Provider("dead-token")
    send_push(ports.sessions, provider, *push_job.args)
    reader_position = timeline(message_story(ports, message_id), reader)["position"]
    record_acks(ports, reader.id, reader_position, reader_position, datetime.now(timezone.utc))

    story = message_story(ports, message_id)
    assert [step for step, _ in timeline(story, reader)["steps"]] == ["accepted", "queued", "sent", "delivered",
                                                                       "read"]
    assert timeline(story, reader)["why"]["tone"] == "ok"
    gone = timeline(story, pruned)
    assert (gone["status"], gone["why"]["tone"]) == ("sent", "problem")
    assert [(p["status"], p["answer"]) for p in gone["pushes"]] == [("pruned", "Requested entity was not found.")]
    assert "took the notification for 1 device" in timeline(story, pushed)["why"]["text"]
    assert "no device registered" in timeline(story, deviceless)["why"]["text"]
    assert [job["actor"] for job in story["jobs"]] == ["deliver_message", "send_push"]
    assert story["jobs"][0]["published_at"] is not None and story["jobs"][1]["published_at"] is None
    assert dict(story["status_counts"]) == {"sent": 3, "read": 1}
    assert story["recipient_total"] == 4 and story["dead_letters"] == [] and story["history"] == []
    assert story["webhooks"] is None  # the sender has no webhook endpoint


def test_a_message_story_shows_its_webhook_events_and_their_attempts(client, auth, sessions, ports, admin):
    shop, somchai, malee = auth.user("business", username="shop"), auth.user("mobile"), auth.user("mobile")
    receiver = start_receiver()
    try:
        endpoint = client.post("/v1/webhooks", json={"url": receiver.url, "events": ["message.status"]},
                               headers=auth.headers(shop)).json
        message_id = send(client, auth, shop, [somchai.phone, malee.phone])
        other = send(client, auth, shop, [somchai.phone])  # its events are not this message's
        assert message_story(ports, message_id)["webhooks"]["events"] == []  # nothing reported before `sent`
        deliver_message(ports, message_id, datetime.now(timezone.utc))
        deliver_message(ports, other, datetime.now(timezone.utc))
        position = timeline(message_story(ports, message_id), somchai)["position"]
        record_acks(ports, somchai.id, position, 0, datetime.now(timezone.utc))
        receiver.fail_next = 1  # the first POST gets a 500; its retry goes through
        http = RequestsWebhookClient(fail_max=1000)
        pump(ports, http, until=lambda: len(receiver.accepted()) == 4)

        webhooks = message_story(ports, message_id)["webhooks"]
        assert webhooks["endpoints"] == [{"id": endpoint["id"], "host": f"127.0.0.1:{receiver.port}", "enabled": True,
                                          "subscribed": True}]
        events = webhooks["events"]
        assert [(e["recipient_id"], e["status"], e["sequence"], e["state"]) for e in events] == [
            (somchai.id, "sent", 1, "delivered"), (malee.id, "sent", 1, "delivered"),
            (somchai.id, "delivered", 2, "delivered")]
        first = events[0]
        assert first["phone"] == somchai.phone and first["attempt_count"] == 2
        assert [a["status_code"] for a in first["attempts"]] == [500, 200] and first["attempts"][0]["error"]
        assert all(a["duration_ms"] >= 0 and a["at"] for e in events for a in e["attempts"])
        assert {e["id"] for e in events} <= {r.event["id"] for r in receiver.received}

        again = client.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{first['id']}/redeliver",
                            headers=auth.headers(shop))
        assert again.status_code == 202
        pump(ports, http, until=lambda: len(receiver.received) == 6)
        events = message_story(ports, message_id, somchai.id)["webhooks"]["events"]
        assert [(e["id"], e["status"], e["redelivery"], e["state"]) for e in events] == [
            (first["id"], "sent", False, "delivered"), (events[1]["id"], "delivered", False, "delivered"),
            (first["id"], "sent", True, "delivered")]
        assert [a["status_code"] for a in events[2]["attempts"]] == [200]

        log_in(client)
        page = client.get(f"/admin/messages/{message_id}").get_data(as_text=True)
        assert "<h2>Webhooks</h2>" in page and first["id"] in page and "redelivery" in page and "· 500 ·" in page
        assert page.count('class="webhook-event"') == 4
        assert receiver.url not in page  # the endpoint is named by its host only
    finally:
        receiver.close()


def test_a_dead_delivery_job_and_its_requeue_are_part_of_the_story(client, auth, sessions, ports, admin):
    shop, somchai = auth.user("business", username="shop"), auth.user("mobile")
    message_id = send(client, auth, shop, [somchai.phone])
    letter_id = kill(sessions, args=(message_id,))
    story = message_story(ports, message_id)
    assert [(l["id"], l["state"]) for l in story["dead_letters"]] == [(letter_id, "dead")]
    mine = timeline(story, somchai)
    assert (mine["status"], mine["why"]["tone"]) == ("failed", "problem")
    assert any(step == "failed" for step, _ in mine["steps"])

    log_in(client)
    form = {"ids": letter_id, "csrf_token": csrf_of(client.get(f"/admin/dead-letters/confirm?action=requeue&ids={letter_id}"))}
    assert client.post("/admin/dead-letters/requeue", data=form).status_code == 302
    story = message_story(ports, message_id)
    assert timeline(story, somchai)["status"] == "accepted"
    assert [(e["action"], e["actor_id"]) for e in story["history"]] == [
        ("dead_letter.requeue", admin.id), ("deliveries.reset_failed", admin.id)]


def test_a_dead_push_job_names_its_message(client, auth, sessions, ports):
    shop, somchai = auth.user("business", username="shop"), auth.user("mobile")
    message_id = send(client, auth, shop, [somchai.phone])
    letter_id = kill(sessions, args=(message_id, [somchai.id]), actor="send_push", queue="push", reason="PushRejected")
    assert [l["id"] for l in message_story(ports, message_id)["dead_letters"]] == [letter_id]
    assert timeline(message_story(ports, message_id), somchai)["status"] == "accepted"  # placed or not: not failed


def test_a_chat_message_s_recipients_are_the_members_even_before_its_job_runs(client, auth, sessions, ports, settings,
                                                                              publisher):
    owner, ann, bob = (auth.user("mobile") for _ in range(3))
    conversation = group(client, auth, owner, [ann, bob])
    message_id = say(client, auth, owner, conversation, "see you at 8")["id"]
    story = message_story(ports, message_id)
    assert story["message"]["conversation"]["id"] == conversation and story["without_rows"] == 2
    assert {r["status"] for r in story["recipients"]} == {"no row yet"}
    job_runner(settings, sessions, publisher)()
    story = message_story(ports, message_id)
    assert story["without_rows"] == 0 and {r["user_id"] for r in story["recipients"]} == {ann.id, bob.id}
    assert {r["status"] for r in story["recipients"]} == {"sent"}
    found = search_messages(ports, MessageQuery(recipient_phone=bob.phone))
    assert [m["id"] for m in found.items] == [message_id] and found.recipient_id == bob.id


def test_the_message_search_filters_pages_newest_first_and_bounds_the_status_filter(client, auth, sessions, ports,
                                                                                   publisher):
    shop, other = auth.user("business", username="shop"), auth.user("business", username="other")
    somchai, malee = auth.user("mobile"), auth.user("mobile")
    ids = [send(client, auth, shop, [somchai.phone], body=f"n{n}") for n in range(3)]
    theirs = send(client, auth, other, [malee.phone])
    publish(sessions, publisher)
    deliver_message(ports, ids[1], datetime.now(timezone.utc))  # places ids[0] too: the recipient's earlier one

    def found(**query):
        return [m["id"] for m in search_messages(ports, MessageQuery(**query)).items]

    assert found() == [theirs, *reversed(ids)]
    assert found(sender="shop") == list(reversed(ids)) == found(sender=str(shop.id))
    assert found(recipient_phone=malee.phone) == [theirs]
    assert found(recipient_phone="+66 81 999 0000") == []  # nobody has that number
    assert found(message_id=ids[0]) == [ids[0]]
    assert found(status="sent") == [ids[1], ids[0]]
    assert found(status="queued", sender="shop") == [ids[2]] == found(status="queued", recipient_phone=somchai.phone)
    assert found(status="accepted") == []
    assert found(since=datetime.now(timezone.utc) + timedelta(minutes=1)) == []
    assert found(until=datetime.now(timezone.utc) + timedelta(minutes=1)) == [theirs, *reversed(ids)]
    first = search_messages(ports, MessageQuery(limit=2))
    rest = search_messages(ports, MessageQuery(limit=2, before_id=first.next_cursor))
    assert [m["id"] for m in first.items + rest.items] == [theirs, *reversed(ids)] and rest.next_cursor is None
    summary = search_messages(ports, MessageQuery(message_id=ids[1])).items[0]
    assert (summary["sender"], summary["statuses"], summary["excerpt"]) == ("shop (business)", [("sent", 1)], "n1")


def test_the_status_filter_examines_a_bounded_window_and_says_so(client, auth, sessions, ports, monkeypatch):
    from usecases.operations import message_search

    shop, somchai = auth.user("business", username="shop"), auth.user("mobile")
    ids = [send(client, auth, shop, [somchai.phone], body=f"n{n}") for n in range(3)]
    monkeypatch.setattr(message_search, "EXAMINED", 2)
    page = search_messages(ports, MessageQuery(status="read"))
    assert (page.items, page.window_exhausted, page.next_cursor) == ([], True, ids[1])
    last = search_messages(ports, MessageQuery(status="read", before_id=page.next_cursor))
    assert (last.items, last.window_exhausted, last.next_cursor) == ([], False, None)


def test_conversations_are_searched_read_closed_and_reopened_with_the_members_told(client, auth, sessions, ports,
                                                                                  settings, publisher, admin):
    owner, ann = auth.user("mobile", username="owner"), auth.user("mobile")
    trip = group(client, auth, owner, [ann], title="Trip to Krabi")
    other = group(client, auth, ann, [owner], title="Book club")
    say(client, auth, owner, trip, "tickets booked")

    def found(**query):
        return [c["id"] for c in search_conversations(ports, ConversationQuery(**query)).items]

    assert found() == [other, trip] and found(title="krabi") == [trip] and found(title="%") == []
    assert found(member="owner") == [other, trip] and found(member=ann.phone) == [other, trip]
    assert found(kind="direct") == [] and found(status="active", kind="group") == [other, trip]

    log_in(client)
    page = client.get(f"/admin/conversations/{trip}").get_data(as_text=True)
    assert "Trip to Krabi" in page and "tickets booked" in page and "owner (mobile)" in page
    token = csrf_of(client.get(f"/admin/conversations/{trip}"))
    closed = client.post(f"/admin/conversations/{trip}/close", data={"csrf_token": token})
    assert closed.status_code == 302
    refused = client.post(f"/v1/conversations/{trip}/messages", json={"body": "x"}, headers=auth.headers(ann))
    assert (refused.status_code, refused.json["code"]) == (409, "conversation_closed")
    assert found(status="closed") == [trip]
    again = client.post(f"/admin/conversations/{trip}/close", data={"csrf_token": token}, follow_redirects=True)
    assert "It was closed already." in again.get_data(as_text=True)
    reopened = client.post(f"/admin/conversations/{trip}/reopen", data={"csrf_token": token})
    assert reopened.status_code == 302
    say(client, auth, ann, trip, "back again")

    job_runner(settings, sessions, publisher)()
    with UnitOfWork(sessions) as uow:
        events = uow.session.execute(select(StreamEvent.user_id, StreamEvent.kind, StreamEvent.payload)
                                     .where(StreamEvent.kind.in_(["conversation_closed", "conversation_reopened"]))
                                     .order_by(StreamEvent.id)).all()
        audit = uow.session.execute(select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.target_id)
                                    .where(AuditEntry.target_type == "conversation").order_by(AuditEntry.id)).all()
        assert uow.session.get(Conversation, trip).status == "active"
    for user in (owner, ann):
        assert [(kind, payload["by"]) for uid, kind, payload in events if uid == user.id] == [
            ("conversation_closed", admin.id), ("conversation_reopened", admin.id)]
    assert audit == [("conversation.close", admin.id, str(trip)), ("conversation.reopen", admin.id, str(trip))]
    history = client.get(f"/admin/conversations/{trip}").get_data(as_text=True)
    assert "conversation.close" in history and "conversation.reopen" in history


def test_the_message_pages_render_search_and_story(client, auth, sessions, ports, publisher, admin):
    shop, somchai = auth.user("business", username="shop"), auth.user("mobile")
    message_id = send(client, auth, shop, [somchai.phone], body="Table for two at 8")
    log_in(client)
    listing = client.get("/admin/messages", query_string={"recipient_phone": somchai.phone})
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert f"/admin/messages/{message_id}?recipient={somchai.id}" in html and "Table for two at 8" in html
    story = client.get(f"/admin/messages/{message_id}?recipient={somchai.id}").get_data(as_text=True)
    assert "not published" in story and "deliver_message" in story and somchai.phone in story
    assert client.get("/admin/messages/999999").status_code == 404
    bad = client.get("/admin/messages", query_string={"status": "lost"})
    assert bad.status_code == 422 and "Invalid filter" in bad.get_data(as_text=True)
    assert client.get("/admin/messages", query_string={"recipient_phone": "12"}).status_code == 422
    assert client.get("/admin/conversations", query_string={"kind": "triad"}).status_code == 422


# --- who may reach the console pages ------------------------------------------

PAGES = ["/admin/dashboard", "/admin/dashboard.json", "/admin/messages", "/admin/messages/1",
         "/admin/conversations", "/admin/conversations/1"]
FORMS = ["/admin/conversations/1/close", "/admin/conversations/1/reopen"]


@pytest.mark.parametrize("who", ["anonymous", "bearer business", "bearer mobile", "bearer admin",
                                 "business password", "mobile password"])
def test_only_a_signed_in_admin_reaches_the_console(client, auth, sessions, who):
    """Bearer tokens never open a page (the pages read only the session);
    a business or mobile user's password opens no session."""
    business = auth.user("business", username="acme", password_hash=hash_password(PASSWORD))
    mobile = auth.user("mobile", username="somchai", password_hash=business.password_hash)
    owner = {"bearer business": business, "bearer mobile": mobile,
             "bearer admin": auth.user("admin", username="root")}.get(who)
    headers = auth.headers(owner) if owner else {}
    if who.endswith("password"):
        assert log_in(client, "acme" if who.startswith("business") else "somchai").status_code == 401
    for path in PAGES + FORMS:
        # A valid CSRF token (a refused page clears the session, so fetched afresh): only the login is missing.
        response = (client.post(path, data={"csrf_token": csrf_of(client.get("/admin/login"))}, headers=headers)
                    if path in FORMS else client.get(path, headers=headers))
        assert response.status_code == 302 and response.location.startswith("/admin/login"), path


@pytest.mark.parametrize("path", FORMS)
def test_closing_and_reopening_need_the_csrf_token(logged_in, auth, client, sessions, path):
    owner, ann = auth.user("mobile"), auth.user("mobile")
    conversation = group(client, auth, owner, [ann])
    path = path.replace("/1/", f"/{conversation}/")
    for form in ({}, {"csrf_token": "forged"}):
        refused = client.post(path, data=form)
        assert refused.status_code == 400 and "Form expired" in refused.get_data(as_text=True)
    with UnitOfWork(sessions) as uow:
        assert uow.session.get(Conversation, conversation).status == "active"
        assert uow.session.scalars(select(AuditEntry).where(AuditEntry.target_type == "conversation")).all() == []


def test_an_admin_reaches_every_console_page(logged_in, auth, client):
    for path in ("/admin/dashboard", "/admin/messages", "/admin/conversations"):
        assert logged_in.get(path).status_code == 200
    assert logged_in.get("/admin/conversations/424242").status_code == 404
    assert logged_in.post("/admin/conversations/424242/close",
                          data={"csrf_token": csrf_of(logged_in.get("/admin/messages"))}).status_code == 404


def test_the_dashboard_counts_the_last_minute_and_shows_the_pipeline(logged_in, client, auth, sessions, ports,
                                                                     publisher):
    def figures():
        answer = logged_in.get("/admin/dashboard.json")
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
        return answer.json

    before = figures()
    assert (before["accepted_per_minute"], before["delivered_per_minute"], before["dead_letters_last_hour"]) == (0, 0, 0)
    assert before["connected_users"] == 0 and before["outbox"]["backlog"] == 0
    shop, somchai = auth.user("business", username="shop"), auth.user("mobile")
    ids = [send(client, auth, shop, [somchai.phone], body=f"n{n}") for n in range(2)]
    publish(sessions, publisher)
    deliver_message(ports, ids[-1], datetime.now(timezone.utc))
    position = timeline(message_story(ports, ids[-1]), somchai)["position"]
    record_acks(ports, somchai.id, position, 0, datetime.now(timezone.utc))
    kill(sessions)
    now = datetime.now(timezone.utc).timestamp()
    ports.presence.refresh_session(somchai.id, "s1", "online", now + 60, now, 60)

    after = figures()
    assert (after["accepted_per_minute"], after["delivered_per_minute"], after["dead_letters_last_hour"]) == (2, 2, 1)
    assert after["connected_users"] == 1
    page = logged_in.get("/admin/dashboard").get_data(as_text=True)
    assert 'data-figure="accepted_per_minute">2<' in page and "dashboard.js" in page
