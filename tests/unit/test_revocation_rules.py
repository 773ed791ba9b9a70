"""The pure parts of revocations: control messages, the generation rule,
the `gen` claim, the per-process list, and audit details that refuse secrets."""

from __future__ import annotations

import pytest

from pipeline import control
from pipeline.control import Revocation
from web.auth.revocations import Revocations
from web.auth.tokens import TokenConfig, issue_access_token, verify_access_token

CONFIG = TokenConfig("HS256", "k" * 40, "k" * 40, "herald", "herald-api", 3600)


def test_a_revocation_travels_as_text_and_anything_else_is_ignored():
    revocation = Revocation(42, 3, control.DISABLED)
    assert control.pack(revocation) == "revoke|42|3|disabled"
    assert control.unpack(control.pack(revocation)) == revocation
    for text in ("", "revoke|42|3", "revoke|x|3|disabled", "revoke|42|-1|disabled", "revoke|42|3|bored",
                 "future|42|3|disabled"):
        assert control.unpack(text) is None


def test_tokens_below_the_users_generation_are_refused():
    assert not control.refuses(0, None)  # never revoked lately
    assert control.refuses(0, 1) and control.refuses(4, 5)
    assert not control.refuses(1, 1) and not control.refuses(2, 1)


def test_the_gen_claim_round_trips_and_a_bad_one_is_refused():
    assert verify_access_token(CONFIG, issue_access_token(CONFIG, user_id=7, role="mobile", generation=3)).generation == 3
    assert verify_access_token(CONFIG, issue_access_token(CONFIG, user_id=7, role="mobile")).generation == 0
    import jwt
    from pipeline.errors import InvalidToken
    for bad in (-1, "2", True, 1.5):
        payload = jwt.decode(issue_access_token(CONFIG, user_id=7, role="mobile"), options={"verify_signature": False})
        token = jwt.encode({**payload, "gen": bad}, CONFIG.signing_key, algorithm="HS256")
        with pytest.raises(InvalidToken):
            verify_access_token(CONFIG, token)


def test_the_list_only_rises_and_the_database_replaces_it_but_for_what_raced_the_read():
    import time

    revocations = Revocations(horizon_seconds=86400)
    revocations.note(7, 2, control.DISABLED)
    revocations.note(7, 1)  # a late message
    assert revocations.generation(7) == 2 and revocations.refuses(7, 1) and not revocations.refuses(7, 2)
    assert revocations.reason(7) == control.DISABLED and revocations.reason(9) == control.REVOKED
    read_since = time.monotonic()
    revocations.note(9, 1)  # heard while the database was being read
    revocations.replace({8: (1, control.DISABLED)}, read_since)
    assert revocations.generation(7) is None  # the store no longer lists it (older than the horizon)
    assert revocations.generation(8) == 1 and revocations.reason(8) == control.DISABLED
    assert revocations.generation(9) == 1


def test_audit_details_refuse_the_names_secrets_go_by():
    from usecases.operations.audit import audit

    class Session:
        added = []

        def add(self, entry):
            self.added.append(entry)

    for key in ("password", "code", "refresh_token", "token"):
        with pytest.raises(ValueError):
            audit(Session(), actor_id=1, action="user.create", target_type="user", target_id=1,
                  details={"via": "api", key: "x"}, now=None)
    assert Session.added == []
