"""Health, readiness and the operator command on the real services."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from config import load_settings
from db.engine import UnitOfWork
from db.models import AuditEntry, User
from web import create_app
from web.auth.tokens import verify_access_token

HERALD = str(Path(sys.executable).parent / "herald")


def test_healthz_answers_without_touching_anything(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_is_ready_when_every_configured_dependency_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    # The test app has Redis but no broker URL: its publisher is handed in.
    assert response.json == {"status": "ready",
                             "checks": {"database": "ok", "broker": "not_configured", "redis": "ok"}}


def test_readyz_in_full_mode_checks_the_broker_too(env, publisher, sessions, broker_url):
    client = create_app(load_settings({**env, "BROKER_URL": broker_url}), publisher=publisher).test_client()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "broker": "ok", "redis": "ok"}


def test_readyz_says_embedded_mode_has_no_broker_or_redis(env, publisher, sessions):
    client = create_app(load_settings({**env, "REDIS_URL": ""}), publisher=publisher).test_client()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready",
                             "checks": {"database": "ok", "broker": "not_configured", "redis": "not_configured"}}


def test_readyz_answers_503_when_a_configured_dependency_is_down(env, publisher, sessions):
    broken = load_settings({**env, "REDIS_URL": "redis://127.0.0.1:1/0",
                            "BROKER_URL": "amqp://guest:guest@127.0.0.1:1/%2F"})
    client = create_app(broken, publisher=publisher).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable",
                             "checks": {"database": "ok", "broker": "down", "redis": "down"}}


def test_readyz_answers_503_when_the_database_is_down(env, publisher):
    broken = load_settings({**env, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere", "REDIS_URL": ""})
    response = create_app(broken, publisher=publisher).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "down", "broker": "not_configured", "redis": "not_configured"}


def run_herald(env, *args):
    return subprocess.run([HERALD, *args], env={**env, "PATH": "/usr/bin:/bin"}, capture_output=True,
                          text=True, timeout=60)


def test_herald_user_create_prints_an_id_and_a_working_token(env, app, sessions):
    result = run_herald(env, "user", "create", "--role", "mobile", "--phone", "+66 81 234 5678", "--name", "Nok")
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["phone"] == "+66812345678" and created["role"] == "mobile"
    claims = verify_access_token(app.extensions["herald"].tokens, created["token"])
    assert (claims.user_id, claims.role) == (created["id"], "mobile")
    again = run_herald(env, "token", str(created["id"]))
    assert json.loads(again.stdout)["id"] == created["id"]
    with UnitOfWork(sessions) as uow:
        entry = uow.session.scalars(select(AuditEntry)).one()
        uow.session.get(User, created["id"]).disabled_at = entry.created_at  # an admin disabled it meanwhile
        uow.commit()
    assert (entry.actor_id, entry.action, entry.target_id, entry.details) == (
        None, "user.create", str(created["id"]), {"via": "cli", "role": "mobile", "username": None,
                                                  "placeholder_claimed": False})
    refused = run_herald(env, "token", str(created["id"]))
    assert refused.returncode != 0 and "account_disabled" in refused.stderr


def test_herald_refuses_a_taken_number_and_an_unknown_user(env, sessions):
    assert run_herald(env, "user", "create", "--role", "mobile", "--phone", "+66812345678").returncode == 0
    taken = run_herald(env, "user", "create", "--role", "mobile", "--phone", "+66812345678")
    assert taken.returncode != 0 and "conflict" in taken.stderr
    missing = run_herald(env, "token", "424242")
    assert missing.returncode != 0 and "not_found" in missing.stderr


def test_herald_db_upgrade_is_idempotent(env):
    result = run_herald(env, "db", "upgrade")
    assert result.returncode == 0 and "up to date" in result.stderr


def test_a_database_outage_answers_503_with_retry_after(env, publisher, sessions):
    from tests.conftest import Auth

    down = load_settings({**env, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"})
    app = create_app(down, publisher=publisher)
    business = Auth(app, sessions).user("business", username="acme")  # created in the real database
    token = Auth(app, sessions).headers(business)
    response = app.test_client().post("/v1/messages", json={"to": ["+66812345678"], "body": "x"}, headers=token)
    assert response.status_code == 503
    assert response.json["code"] == "dependency_unavailable" and response.headers["Retry-After"] == "1"


# --- failures an operator can fix: one line, what to do, no traceback ---------

def assert_one_line_failure(result, *words):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("herald: ") and all(w in result.stderr for w in words), result.stderr


def test_herald_db_upgrade_needs_no_jwt_secret_even_in_full_mode(env):
    full_mode = {**env, "JWT_SECRET": "", "BROKER_URL": "amqp://guest:guest@127.0.0.1:1/%2F"}
    result = run_herald(full_mode, "db", "upgrade")
    assert result.returncode == 0 and "up to date" in result.stderr, result.stderr


def test_full_mode_without_jwt_secret_says_to_set_it(env, sessions):
    full_mode = {**env, "JWT_SECRET": "", "BROKER_URL": "amqp://guest:guest@127.0.0.1:1/%2F"}
    result = run_herald(full_mode, "user", "create", "--role", "mobile", "--phone", "+66812345678")
    assert_one_line_failure(result, "JWT_SECRET must be set")


def test_a_database_that_does_not_exist_is_named_with_what_to_do(env):
    missing = {**env, "DATABASE_URL": env["DATABASE_URL"].rsplit("/", 1)[0] + "/herald_no_such_database"}
    for command in (["db", "upgrade"], ["dlq", "list"], ["token", "1"]):
        assert_one_line_failure(run_herald(missing, *command), '"herald_no_such_database" does not exist',
                                "herald db upgrade")


def test_an_unreachable_database_is_one_line(env):
    result = run_herald({**env, "DATABASE_URL": "postgresql://herald@127.0.0.1:1/herald"}, "dlq", "list")
    assert_one_line_failure(result, "could not be reached", "DATABASE_URL")


def test_a_malformed_number_setting_is_named(env):
    assert_one_line_failure(run_herald({**env, "PORT": "eighty"}, "dlq", "list"), "PORT must be a whole number")
