"""`herald dlq` on the real PostgreSQL: list as JSON lines, requeue by id
or --all (outbox rows only, for the sweeper), discard — as the system actor."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import AuditEntry, DeadLetter, Outbox
from tests.integration.test_admin_dead_letters_api import kill
from tests.integration.test_ops_and_cli import assert_one_line_failure, run_herald


def states(sessions):
    with UnitOfWork(sessions) as uow:
        return {letter.id: letter.state for letter in uow.session.scalars(select(DeadLetter))}


def test_list_prints_json_lines_filtered_by_queue_and_reason(env, sessions):
    push = kill(sessions, queue="push", actor="send_push", reason="PushRejected", age_seconds=10)
    other = kill(sessions)
    result = run_herald(env, "dlq", "list")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [other, push]
    assert [json.loads(line)["id"] for line in run_herald(env, "dlq", "list", "--queue", "push").stdout.splitlines()] == [push]
    assert run_herald(env, "dlq", "list", "--reason", "Nope").stdout == ""


def test_requeue_by_id_inserts_an_outbox_row_for_the_sweeper_and_audits_the_system_actor(env, sessions):
    letter, gone = kill(sessions), kill(sessions)
    assert run_herald(env, "dlq", "discard", str(gone)).returncode == 0
    result = run_herald(env, "dlq", "requeue", str(letter), str(gone))
    assert json.loads(result.stdout) == {"requeued": [letter], "skipped": [gone]}
    with UnitOfWork(sessions) as uow:
        (outbox,) = uow.session.scalars(select(Outbox)).all()
        audit = uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert outbox.published_at is None and outbox.available_at <= datetime.now(timezone.utc)
    assert [(a.actor_id, a.action, a.details["via"]) for a in audit] == [
        (None, "dead_letter.discard", "cli"), (None, "dead_letter.requeue", "cli")]
    assert states(sessions) == {letter: "requeued", gone: "discarded"}


def test_requeue_all_takes_every_matching_dead_letter(env, sessions):
    push = [kill(sessions, queue="push", actor="send_push", args=(n,)) for n in range(3)]
    other = kill(sessions)
    result = run_herald(env, "dlq", "requeue", "--all", "--queue", "push")
    assert sorted(json.loads(result.stdout)["requeued"]) == push
    assert states(sessions) == {**{n: "requeued" for n in push}, other: "dead"}


def test_the_command_refuses_ambiguous_requests(env, sessions):
    assert run_herald(env, "dlq", "requeue").returncode != 0
    assert run_herald(env, "dlq", "requeue", "1", "--all").returncode != 0
    assert run_herald(env, "dlq", "requeue", "1", "--queue", "push").returncode != 0
    assert run_herald(env, "dlq", "discard").returncode != 0


def test_a_data_folder_without_a_database_is_said_and_left_untouched(tmp_path):
    empty = {"HERALD_DATA_DIR": str(tmp_path / "data"), "HERALD_DEMO": "off"}
    for command in (["dlq", "list"], ["dlq", "discard", "1"], ["token", "1"], ["demo", "env"]):
        assert_one_line_failure(run_herald(empty, *command), "no database at", "herald db upgrade")
    assert not (tmp_path / "data").exists()


def test_a_database_without_tables_says_to_upgrade(tmp_path):
    (tmp_path / "herald.db").touch()
    result = run_herald({"HERALD_DATA_DIR": str(tmp_path)}, "dlq", "list")
    assert_one_line_failure(result, "no Herald tables", "herald db upgrade")
