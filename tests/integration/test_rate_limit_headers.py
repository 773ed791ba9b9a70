"""Rate-limit headers: X-RateLimit-* on answers under a limit, Retry-After
only where it means something (a 429, or the answer's own, e.g. a 503)."""

from __future__ import annotations

import pytest

from config import load_settings
from tests.conftest import Auth
from web import create_app
from web.extensions import LIMITER_RETRY_AFTER

PHONE = "+66812345678"


@pytest.fixture
def limited_env(env):
    return {name: value for name, value in env.items() if name != "RATE_LIMITS"}


def limited_app(environ, publisher):
    return create_app(load_settings(environ), publisher=publisher,
                      test_config={"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"})


def test_a_successful_answer_has_rate_limit_headers_but_no_retry_after(limited_env, sessions, publisher):
    response = limited_app(limited_env, publisher).test_client().post("/v1/auth/otp", json={"phone": PHONE})
    assert response.status_code == 202
    assert response.headers["X-RateLimit-Limit"] and response.headers["X-RateLimit-Remaining"]
    assert "Retry-After" not in response.headers and LIMITER_RETRY_AFTER not in response.headers


def test_a_429_says_when_to_retry(limited_env, sessions, publisher):
    client = limited_app(limited_env, publisher).test_client()
    for _ in range(5):
        assert client.post("/v1/auth/otp", json={"phone": PHONE}).status_code == 202
    refused = client.post("/v1/auth/otp", json={"phone": PHONE})
    assert refused.status_code == 429 and refused.json["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert LIMITER_RETRY_AFTER not in refused.headers


def test_a_503_keeps_its_own_retry_after_under_a_limit(limited_env, sessions, publisher):
    down = limited_app({**limited_env, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"}, publisher)
    business = Auth(down, sessions).user("business", username="acme")  # created in the real database
    response = down.test_client().post("/v1/messages", json={"to": [PHONE], "body": "x"},
                                       headers=Auth(down, sessions).headers(business))
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.headers["X-RateLimit-Limit"]
