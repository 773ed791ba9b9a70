"""The admin console end to end, in a real browser: an admin signs in, sees
the dashboard's figures move after real sends, finds a message by its
recipient's phone and reads that recipient's timeline and the sender's
webhook events (a local receiver), then closes and
reopens a conversation — and the member's socket hears both. Full stack:
gunicorn, dramatiq, RabbitMQ, PostgreSQL, Redis; Debian's chromium."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.e2e.test_admin_dead_letters_browser import browser  # noqa: F401  (the fixture)
from tests.support.clients import StreamClient, next_of, token_of
from tests.support.webhook_receiver import start_receiver
from usecases.accounts.passwords import hash_password

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp")  # the PNGs in docs/ are copies of these
PASSWORD = "a long admin password"


@pytest.fixture(scope="module")
def stack_env(stack_env):
    return {**stack_env, "WEBHOOK_ALLOW_PRIVATE": "on", "WEBHOOK_ALLOW_HTTP": "on"}  # the receiver is local


@pytest.fixture
def receiver():
    receiver = start_receiver()
    yield receiver
    receiver.close()


def figure(page, name: str) -> int:
    return int(page.inner_text(f"[data-figure={name}]"))


def test_an_admin_watches_the_dashboard_traces_a_message_and_closes_a_conversation(stack, auth, browser,  # noqa: F811
                                                                                   receiver):
    auth.user("admin", username="ops", name="Ops on call", password_hash=hash_password(PASSWORD))
    shop, somchai, friend = auth.user("business", username="shop"), auth.user("mobile"), auth.user("mobile")
    assert requests.post(f"{stack.base_url}/v1/webhooks", json={"url": receiver.url, "events": ["message.status"]},
                         headers=auth.headers(shop), timeout=10).status_code == 201

    page = browser.new_page(viewport={"width": 1280, "height": 760})
    page.goto(f"{stack.base_url}/admin")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url("**/admin/dashboard")
    accepted, delivered = figure(page, "accepted_per_minute"), figure(page, "delivered_per_minute")

    with StreamClient(stack.ws_url, token_of(auth, somchai)) as stream:
        stream.until_ready()
        ids = [requests.post(f"{stack.base_url}/v1/messages", json={"to": [somchai.phone], "body": f"Order {n} shipped"},
                             headers=auth.headers(shop), timeout=10).json()["id"] for n in range(3)]
        positions = [next_of(stream, "message")["position"] for _ in ids]
        stream.send({"type": "ack", "position": max(positions)})
        # The page's script refreshes the figures every few seconds: no reload.
        page.wait_for_function(
            "([a, d]) => +document.querySelector('[data-figure=accepted_per_minute]').textContent >= a + 3"
            " && +document.querySelector('[data-figure=delivered_per_minute]').textContent >= d + 3",
            arg=[accepted, delivered], timeout=15_000)
        page.screenshot(path=str(SHOTS / "admin-dashboard.png"))

        page.click("nav >> text=Messages")
        page.fill("input[name=recipient_phone]", somchai.phone)
        page.click("button:has-text('Search')")
        page.wait_for_url("**recipient_phone=**")
        rows = page.locator("table.messages tbody tr")
        assert rows.count() == 3 and f"#{ids[-1]}" in rows.first.inner_text()
        page.screenshot(path=str(SHOTS / "admin-messages.png"))
        rows.first.locator(f"a:has-text('#{ids[-1]}')").click()
        page.wait_for_url(f"**/admin/messages/{ids[-1]}?recipient={somchai.id}")
        card = page.locator(f"section.recipient[data-user='{somchai.id}']")
        steps = card.locator("ol.timeline .step-name").all_inner_texts()
        assert [s.lower() for s in steps] == ["accepted", "queued", "sent", "delivered"]
        assert card.locator(".why.ok").inner_text().startswith("Delivered")
        assert "deliver_message" in page.inner_text("table.jobs")
        # The webhooks worker reports sent and delivered to the shop's receiver.
        _until(lambda: len([e for e in receiver.accepted() if e["data"].get("message_id") == ids[-1]]) >= 2)
        page.reload()
        hooks = page.locator("table.webhooks tr.webhook-event")
        assert hooks.count() == 2 and "delivered" in hooks.nth(1).inner_text() and "200" in hooks.nth(1).inner_text()
        page.screenshot(path=str(SHOTS / "admin-message.png"), full_page=True)

        trip = requests.post(f"{stack.base_url}/v1/conversations", headers=auth.headers(friend), timeout=10,
                             json={"kind": "group", "title": "Trip to Krabi", "members": [somchai.id]}).json()["id"]
        page.click("nav >> text=Conversations")
        page.fill("input[name=title]", "krabi")
        page.click("button:has-text('Search')")
        page.wait_for_url("**title=krabi**")
        page.screenshot(path=str(SHOTS / "admin-conversations.png"))
        page.click(f"a:has-text('#{trip}')")
        page.wait_for_url(f"**/admin/conversations/{trip}")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button:has-text('Close conversation')")
        page.wait_for_selector(".flash.success")
        assert page.inner_text("#conversation-status") == "closed"
        assert next_of(stream, "conversation_closed")["conversation_id"] == trip
        page.screenshot(path=str(SHOTS / "admin-conversation.png"), full_page=True)
        page.click("button:has-text('Reopen conversation')")
        page.wait_for_selector(".flash.success")
        assert page.inner_text("#conversation-status") == "active"
        assert next_of(stream, "conversation_reopened")["conversation_id"] == trip
    sent = requests.post(f"{stack.base_url}/v1/conversations/{trip}/messages", json={"body": "open again"},
                         headers=auth.headers(friend), timeout=10)
    assert sent.status_code == 202


def _until(done, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the receiver did not hear both statuses"
        time.sleep(0.1)
