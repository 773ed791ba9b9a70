"""Disabling a user end to end, in a real browser: an admin signs in in
Chromium, finds a mobile user by phone, disables them after confirming —
and that user's open WebSocket on a real gunicorn edge (two gevent worker
processes: the socket and the admin's request may be on different ones)
closes with 4003, their token is refused, and the audit page shows the
sign-in and the disable. Debian's /usr/bin/chromium driven by playwright."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidStatus

from pipeline.control import CLOSE_ACCOUNT_DISABLED
from tests.e2e.conftest import fresh_database
from tests.e2e.test_admin_dead_letters_browser import browser  # noqa: F401 (the fixture)
from tests.support.clients import StreamClient, token_of
from tests.support.processes import start_gunicorn
from usecases.accounts.passwords import hash_password

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path("/tmp")
PASSWORD = "a long admin password"


@pytest.fixture(scope="module")
def edge(stack_env, engine, tmp_path_factory):
    fresh_database(engine)
    web, base_url = start_gunicorn(stack_env, tmp_path_factory.mktemp("logs"), workers=2)
    yield base_url
    web.stop()


def closed_with(stream: StreamClient, timeout: float) -> int:
    """The close code the server sent, skipping any frame before it."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            stream.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def test_an_admin_disables_a_user_and_their_socket_closes_at_once(edge, auth, browser):  # noqa: F811
    ops = auth.user("admin", username="ops", name="Ops on call", password_hash=hash_password(PASSWORD))
    nok = auth.user("mobile", phone="+66812345001", name="Nok")
    token = token_of(auth, nok)
    device = requests.post(f"{edge}/v1/devices", json={"platform": "android", "token": "fcm-token-of-noks-phone"},
                           headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert device.status_code == 201
    stream = StreamClient(edge.replace("http", "ws", 1), token)
    assert stream.until_ready()[0] == []

    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{edge}/admin/users")
    assert "/admin/login" in page.url
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url("**/admin/users")
    page.fill("input[name=q]", "081 234 5001")
    page.click("button:has-text('Search')")
    page.wait_for_url("**q=081**")
    row = page.locator("table.users tbody tr")
    assert row.count() == 1 and "+66812345001" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "admin-users.png"))

    row.locator(f"a:has-text('#{nok.id}')").click()
    page.wait_for_url(f"**/admin/users/{nok.id}")
    assert "enabled" in page.inner_text("h1") and "android" in page.inner_text("main")  # the user's devices
    page.click("a:has-text('Disable')")
    page.wait_for_url(f"**/admin/users/{nok.id}/confirm?action=disable")
    assert page.inner_text("h1") == "Disable +66812345001?"
    page.screenshot(path=str(SCREENSHOTS / "admin-user-confirm.png"))
    started = time.monotonic()
    page.click("button:has-text('Yes, disable')")
    page.wait_for_selector(".flash.success")
    assert page.inner_text(".flash.success") == "Disabled +66812345001: tokens and sockets stopped."
    assert "disabled" in page.inner_text("h1") and "user.disable" in page.inner_text("table.audit")

    assert closed_with(stream, timeout=5) == CLOSE_ACCOUNT_DISABLED
    print(f"\nsocket closed {1000 * (time.monotonic() - started):.0f} ms after the click")
    page.screenshot(path=str(SCREENSHOTS / "admin-user.png"))
    stream.close()
    for _ in range(6):  # both worker processes refuse it (connections land on either)
        refused = requests.get(f"{edge}/v1/conversations", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"
    with pytest.raises(InvalidStatus) as handshake:
        StreamClient(edge.replace("http", "ws", 1), token)
    assert handshake.value.response.status_code == 401

    page.click("nav a:has-text('Audit log')")
    page.wait_for_url("**/admin/audit")
    table = page.inner_text("table.audit")
    assert "sign_in.admin_page" in table and "user.disable" in table
    page.screenshot(path=str(SCREENSHOTS / "admin-audit.png"))
    page.fill("input[name=who]", "ops")
    page.select_option("select[name=action]", "user.disable")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**action=user.disable**")
    rows = page.locator("table.audit tbody tr")
    assert rows.count() == 1
    assert all(text in rows.inner_text() for text in ("ops", "user.disable", f"user #{nok.id}", "admin_page"))

    page.goto(f"{edge}/admin/users/new")  # the other new pages, for docs/ (nothing submitted)
    page.screenshot(path=str(SCREENSHOTS / "admin-user-new.png"))
    page.goto(f"{edge}/admin/users/{ops.id}/password")
    page.screenshot(path=str(SCREENSHOTS / "admin-user-password.png"))
