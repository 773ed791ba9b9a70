"""Accounts for numbers that were messaged first, and numbers in national
form (docs/decisions.md D79): the operator's `herald user create` makes a
placeholder the account (same id, waiting messages kept); a real account
still conflicts; with DEFAULT_PHONE_REGION every place that reads a number
takes the national form."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config import load_settings
from db.engine import UnitOfWork
from db.models import Delivery, User
from web import create_app

HERALD = str(Path(sys.executable).parent / "herald")


def run_herald(env, *args):
    return subprocess.run([HERALD, *args], env={**env, "PATH": "/usr/bin:/bin"}, capture_output=True,
                          text=True, timeout=60)


def the_user(sessions, phone) -> User:
    with UnitOfWork(sessions) as uow:
        return uow.session.scalars(select(User).where(User.phone == phone)).one()


def waiting(sessions, user_id) -> int:
    with UnitOfWork(sessions) as uow:
        return uow.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.recipient_id == user_id))


def test_the_command_turns_a_placeholder_into_the_account(env, client, auth, sessions):
    shop = auth.user("business")
    sent = client.post("/v1/messages", json={"to": ["+66 81 555 0101"], "body": "your parcel"},
                       headers=auth.headers(shop))
    assert sent.status_code == 202
    placeholder = the_user(sessions, "+66815550101")
    assert placeholder.activated_at is None
    made = run_herald(env, "user", "create", "--role", "mobile", "--phone", "+66815550101", "--name", "Nok")
    assert made.returncode == 0, made.stderr
    account = json.loads(made.stdout)
    assert account["id"] == placeholder.id and account["phone"] == "+66815550101"
    adopted = the_user(sessions, "+66815550101")
    assert adopted.activated_at is not None and adopted.name == "Nok"
    assert waiting(sessions, placeholder.id) == 1  # the message still waits for its reader
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalar(select(func.count()).select_from(User).where(User.role == "mobile")) == 1
    # Now it is a real account: provisioning it again conflicts.
    again = run_herald(env, "user", "create", "--role", "mobile", "--phone", "+66815550101")
    assert again.returncode != 0 and "conflict" in again.stderr


def test_a_placeholder_number_is_not_given_to_another_role(env, client, auth, sessions):
    shop = auth.user("business")
    client.post("/v1/messages", json={"to": ["+66815550102"], "body": "hi"}, headers=auth.headers(shop))
    made = run_herald(env, "user", "create", "--role", "business", "--phone", "+66815550102", "--username", "x")
    assert made.returncode != 0 and "conflict" in made.stderr
    assert the_user(sessions, "+66815550102").activated_at is None


def test_a_placeholder_claimed_twice_is_claimed_once(sessions):
    from datetime import datetime, timezone

    from pipeline.errors import Conflict
    from usecases.accounts.provisioning import provision_user
    from usecases.accounts.users import mobile_user_for_phone
    now = datetime.now(timezone.utc)
    with UnitOfWork(sessions) as uow:
        placeholder = mobile_user_for_phone(uow.session, "+66815550103", now)
        uow.commit()
    assert provision_user(sessions, role="mobile", now=now, phone="+66815550103").id == placeholder.id
    with pytest.raises(Conflict):
        provision_user(sessions, role="mobile", now=now, phone="+66815550103")


@pytest.fixture
def thai_env(env):
    return {**env, "DEFAULT_PHONE_REGION": "TH"}


@pytest.fixture
def thai_client(thai_env, sessions, publisher):
    return create_app(load_settings(thai_env), publisher=publisher, test_config={"TESTING": True}).test_client()


def test_national_numbers_are_read_everywhere_with_a_default_region(thai_env, thai_client, auth, sessions, caplog):
    shop = auth.user("business")
    headers = auth.headers(shop)
    # Sending: a national number is the international one's account.
    sent = thai_client.post("/v1/messages", json={"to": ["081 555 0104", "+66815550104"], "body": "hi"},
                            headers=headers)
    assert sent.status_code == 202
    status = thai_client.get(f"/v1/messages/{sent.json['id']}", headers=headers).json
    assert [r["phone"] for r in status["recipients"]] == ["+66815550104"]
    listed = thai_client.get("/v1/messages?recipient=0815550104", headers=headers).json["items"]
    assert [m["id"] for m in listed] == [sent.json["id"]]
    # A business's direct conversation with a number.
    chat = thai_client.post("/v1/conversations", json={"kind": "direct", "with": "081-555-0105"}, headers=headers)
    assert chat.status_code in (200, 201), chat.json
    assert the_user(sessions, "+66815550105").role == "mobile"
    # Signing in by a texted code.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="herald.sms"):
        assert thai_client.post("/v1/auth/otp", json={"phone": "0815550104"}).status_code == 202
    code = [r.getMessage() for r in caplog.records if r.name == "herald.sms"][0].rsplit(" ", 1)[1]
    signed_in = thai_client.post("/v1/auth/otp/verify", json={"phone": "081 555 0104", "code": code})
    assert signed_in.status_code == 200 and signed_in.json["user"]["id"] == status["recipients"][0]["user_id"]
    # The operator's command.
    made = run_herald(thai_env, "user", "create", "--role", "mobile", "--phone", "0815550106")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["phone"] == "+66815550106"


def test_without_a_default_region_national_numbers_are_refused(client, auth, env):
    shop = auth.user("business")
    refused = client.post("/v1/messages", json={"to": ["0815550107"], "body": "hi"}, headers=auth.headers(shop))
    assert (refused.status_code, refused.json["code"]) == (422, "invalid_phone_number")
    made = run_herald(env, "user", "create", "--role", "mobile", "--phone", "0815550107")
    assert made.returncode != 0 and "invalid_phone_number" in made.stderr
