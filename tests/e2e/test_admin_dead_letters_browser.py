"""Dead letters end to end, in a real browser: a job that overtook its
message dies in the real worker (MessageNotFound), an admin finds it in
Chromium, requeues it after confirming, and the recipient's socket gets the
message exactly once. Full stack: gunicorn, dramatiq, RabbitMQ, PostgreSQL,
Redis; Debian's /usr/bin/chromium driven by playwright."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from config import load_settings
from db.engine import UnitOfWork
from db.models import AuditEntry, DeadLetter, Delivery, Message, Outbox
from pipeline import status
from pipeline.contract import delivery_queue, partition_for
from pipeline.contract import DELIVER_MESSAGE
from tests.support.clients import StreamClient, token_of
from usecases.accounts.passwords import hash_password

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT = Path("/tmp/admin-dead-letters.png")
PASSWORD = "a long admin password"


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/ensure-services.sh installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()



def publish_job_ahead_of_its_message(sessions, recipient_id: int, partitions: int) -> int:
    """An outbox job for the next message id, committed before the message
    itself (as an edge that published before its commit would); the
    worker's sweeper publishes it."""
    now = datetime.now(timezone.utc)
    with UnitOfWork(sessions) as uow:
        message_id = uow.session.execute(text("SELECT nextval('messages_id_seq')")).scalar_one()
        uow.session.add(Outbox(message_id=None, queue_name=delivery_queue("normal", partition_for(recipient_id, partitions)),
                               actor_name=DELIVER_MESSAGE, args=[message_id], created_at=now, available_at=now))
        uow.commit()
    return message_id


def wait_for_dead_letter(sessions, message_id: int, timeout: float = 20.0) -> DeadLetter:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with UnitOfWork(sessions) as uow:
            letters = uow.session.scalars(select(DeadLetter).where(DeadLetter.actor_name == DELIVER_MESSAGE)).all()
        for letter in letters:
            if letter.job_args == [message_id]:
                return letter
        time.sleep(0.2)
    raise AssertionError(f"no dead letter for message {message_id}")


def commit_the_late_message(sessions, message_id: int, sender_id: int, recipient_id: int) -> None:
    now = datetime.now(timezone.utc)
    with UnitOfWork(sessions) as uow:
        uow.session.add(Message(id=message_id, sender_id=sender_id, kind="oneway", body="Your table is ready",
                                priority="normal", recipient_ids=[recipient_id], created_at=now))
        uow.session.flush()
        uow.session.add(Delivery(message_id=message_id, recipient_id=recipient_id, status=status.ACCEPTED,
                                 accepted_at=now))
        uow.commit()


def test_an_admin_requeues_a_dead_letter_in_the_browser_and_the_message_arrives_once(
        stack, auth, sessions, browser):
    admin = auth.user("admin", username="ops", name="Ops on call", password_hash=hash_password(PASSWORD))
    business, nok = auth.user("business", username="bistro", name="Bistro"), auth.user("mobile")
    with StreamClient(stack.ws_url, token_of(auth, nok)) as stream:
        assert stream.until_ready()[0] == []
        message_id = publish_job_ahead_of_its_message(sessions, nok.id, load_settings(stack.env).delivery_partitions)
        letter = wait_for_dead_letter(sessions, message_id)
        assert (letter.reason, letter.attempts, letter.state) == ("MessageNotFound", 1, "dead")
        commit_the_late_message(sessions, message_id, business.id, nok.id)

        page = browser.new_page(viewport={"width": 1400, "height": 800})
        page.goto(f"{stack.base_url}/admin/dead-letters")
        assert "/admin/login" in page.url
        page.fill("input[name=username]", "ops")
        page.fill("input[name=password]", PASSWORD)
        page.click("button:has-text('Log in')")
        page.wait_for_url("**/admin/dead-letters")
        page.fill("input[name=reason]", "MessageNotFound")
        page.click("button:has-text('Filter')")
        page.wait_for_url("**reason=MessageNotFound**")
        row = page.locator("table.letters tbody tr", has_text=f"#{letter.id}")
        assert row.count() == 1 and "MessageNotFound" in row.inner_text()
        page.screenshot(path=str(SCREENSHOT), full_page=True)

        row.locator(f"a:has-text('#{letter.id}')").click()
        page.wait_for_url(f"**/admin/dead-letters/{letter.id}")
        assert f"MessageNotFound('message {message_id} does not exist')" in page.inner_text("pre")
        page.screenshot(path=str(SCREENSHOT.with_name("admin-dead-letter.png")), full_page=True)
        page.go_back()

        row.locator("input[type=checkbox]").check()
        page.click("button:has-text('Requeue selected')")
        page.wait_for_url("**/admin/dead-letters/confirm**")
        assert "Requeue 1 dead letter?" in page.inner_text("h1")
        page.screenshot(path=str(SCREENSHOT.with_name("admin-dead-letters-confirm.png")), full_page=True)
        page.click("button:has-text('Yes, requeue')")
        page.wait_for_selector(".flash.success")
        assert page.inner_text(".flash.success") == "Requeued 1 dead letter."
        page.screenshot(path=str(SCREENSHOT.with_name("admin-dead-letters-requeued.png")), full_page=True)

        frame = stream.next(timeout=15)
        assert (frame["type"], frame["position"], frame["message"]["id"]) == ("message", 1, message_id)
        assert frame["message"]["body"] == "Your table is ready"
        # Exactly once: neither the edge's publish plus a sweep, nor anything else, sends it again.
        with pytest.raises(TimeoutError):
            stream.next(timeout=4)

    with UnitOfWork(sessions) as uow:
        assert uow.session.get(DeadLetter, letter.id).state == "requeued"
        audit = uow.session.scalars(select(AuditEntry).where(AuditEntry.target_type == "dead_letter", AuditEntry.target_id == str(letter.id))).all()
    assert [(a.actor_id, a.action, a.details["via"]) for a in audit] == [(admin.id, "dead_letter.requeue", "admin_page")]
