"""API keys through real gunicorn processes (two workers: requests land on
either): a key made with the API sends and reads status; once revoked,
no process accepts it; its last use is written once however many
processes served it (docs/decisions.md D76)."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import ApiKey
from tests.support.processes import start_gunicorn

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def two_workers(stack_env, tmp_path_factory):
    web, base_url = start_gunicorn(stack_env, tmp_path_factory.mktemp("logs"), workers=2)
    yield base_url
    web.stop()


def test_a_key_works_on_every_process_until_revoked_and_then_on_none(two_workers, auth, sessions):
    shop, somchai = auth.user("business", username="shop"), auth.user("mobile")
    made = requests.post(f"{two_workers}/v1/api-keys", json={"name": "billing"}, headers=auth.headers(shop),
                         timeout=10)
    assert made.status_code == 201
    key = {"Authorization": f"Bearer {made.json()['secret']}"}
    for n in range(12):
        sent = requests.post(f"{two_workers}/v1/messages", json={"to": [somchai.id], "body": f"m{n}"},
                             headers=key, timeout=10)
        assert sent.status_code == 202, sent.text
        status = requests.get(f"{two_workers}/v1/messages/{sent.json()['id']}", headers=key, timeout=10)
        assert status.status_code == 200 and status.json()["sender_id"] == shop.id
    with UnitOfWork(sessions) as uow:
        row = uow.session.scalars(select(ApiKey)).one()
        first_use = row.last_used_at
    assert first_use is not None
    listed = requests.get(f"{two_workers}/v1/messages?limit=100", headers=key, timeout=10).json()
    assert len(listed["items"]) == 12
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalars(select(ApiKey)).one().last_used_at == first_use  # once a minute, not per request

    revoked = requests.delete(f"{two_workers}/v1/api-keys/{made.json()['id']}", headers=auth.headers(shop),
                              timeout=10)
    assert revoked.status_code == 204
    for n in range(12):
        refused = requests.post(f"{two_workers}/v1/messages", json={"to": [somchai.id], "body": "late"},
                                headers=key, timeout=10)
        assert (refused.status_code, refused.json()["code"]) == (401, "invalid_token")
