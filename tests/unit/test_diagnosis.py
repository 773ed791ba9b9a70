"""The console's one-line answer to "why wasn't this person notified"."""

from datetime import datetime, timezone

import pytest

from pipeline.diagnosis import OK, PROBLEM, WAITING, PushFact, RecipientFacts, diagnose


@pytest.mark.parametrize("facts, tone, words", [
    (RecipientFacts("read", True), OK, "Read"),
    (RecipientFacts("delivered", True), OK, "acknowledged"),
    (RecipientFacts("expired", False), PROBLEM, "time to live"),
    (RecipientFacts("failed", False, "dead letter x: MessageNotFound", dead_jobs=1), PROBLEM, "MessageNotFound"),
    (RecipientFacts("accepted", False), WAITING, "not published"),
    (RecipientFacts("accepted", False, dead_jobs=1), PROBLEM, "dead letter"),
    (RecipientFacts("accepted", False, scheduled_for=datetime(2030, 1, 1, tzinfo=timezone.utc)), WAITING, "Scheduled"),
    (RecipientFacts("queued", False), WAITING, "no worker has run it"),
    (RecipientFacts("sent", True), WAITING, "no device registered"),
    (RecipientFacts("sent", True, devices=1), WAITING, "online when it was placed"),
    (RecipientFacts("sent", True, devices=1, push_enabled=False), WAITING, "Push is off"),
    (RecipientFacts("sent", True, pushes=(PushFact("sent", 1, None), PushFact("pruned", 1, "gone"))), WAITING,
     "took the notification for 1 device. 1 device refused"),
    (RecipientFacts("sent", True, pushes=(PushFact("sending", 2, "quota exceeded"),)), PROBLEM, "retried: quota"),
    (RecipientFacts("sent", True, pushes=(PushFact("sending", 0, None),)), WAITING, "being retried"),
    (RecipientFacts("sent", True, pushes=(PushFact("pruned", 1, "Requested entity was not found."),)), PROBLEM,
     "Every push was refused (Requested entity was not found.)"),
    (RecipientFacts(None, False), WAITING, "has not run yet"),
    (RecipientFacts(None, False, dead_jobs=2), PROBLEM, "died"),
])
def test_each_recorded_state_gets_its_answer(facts, tone, words):
    answer = diagnose(facts)
    assert answer.tone == tone and words in answer.text
