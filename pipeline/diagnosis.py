"""Why a recipient was (or was not) notified: the admin console's one-line
answer, read from what the pipeline recorded about one delivery.

Pure: the caller gathers the facts (delivery row, pushes, devices, dead
letters); this module only words them. The tone says how an admin should
read it: `ok` (reached a device), `waiting` (on its way, nothing wrong
yet), `problem` (stopped: failed, expired, a push refused, a dead job).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pipeline import push as pushes
from pipeline import status

OK, WAITING, PROBLEM = "ok", "waiting", "problem"


@dataclass(frozen=True)
class PushFact:
    status: str  # pipeline.push: sending | sent | logged | failed | pruned
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class RecipientFacts:
    status: str | None  # the effective status (queued derived); None: no delivery row yet
    placed: bool  # has a stream position
    last_error: str | None = None
    pushes: tuple[PushFact, ...] = ()
    devices: int = 0  # devices registered now
    dead_jobs: int = 0  # dead letters of this message still dead
    scheduled_for: datetime | None = None  # send_at still in the future
    push_enabled: bool = True


@dataclass(frozen=True)
class Diagnosis:
    tone: str
    text: str
    hints: tuple[str, ...] = field(default=())


def diagnose(facts: RecipientFacts) -> Diagnosis:
    """The recipient's story in a sentence."""
    if facts.status is None:
        return _no_row(facts)
    if facts.status == status.READ:
        return Diagnosis(OK, "Read: the recipient opened it.")
    if facts.status == status.DELIVERED:
        return Diagnosis(OK, "Delivered: a device of the recipient acknowledged it.")
    if facts.status == status.EXPIRED:
        return Diagnosis(PROBLEM, "Expired: its time to live ran out before any device acknowledged it.")
    if facts.status == status.FAILED:
        reason = f" ({facts.last_error})" if facts.last_error else ""
        return Diagnosis(PROBLEM, f"Failed: the delivery job gave up{reason}.",
                         ("Requeue its dead letter below to deliver it again.",) if facts.dead_jobs else ())
    if facts.status == status.SENT:
        return _placed(facts)
    return _not_placed(facts)


def _no_row(facts: RecipientFacts) -> Diagnosis:
    if facts.dead_jobs:
        return Diagnosis(PROBLEM, "Not delivered: the conversation's delivery job died before it reached "
                                  "this member (see the dead letters below).")
    return Diagnosis(WAITING, "Waiting: the conversation's delivery job has not run yet, so this member "
                              "has no delivery row.")


def _not_placed(facts: RecipientFacts) -> Diagnosis:
    if facts.dead_jobs:
        return Diagnosis(PROBLEM, "Not delivered: its delivery job is a dead letter (see below).",
                         ("Requeue it to deliver the message.",))
    if facts.scheduled_for is not None:
        return Diagnosis(WAITING, "Scheduled: the delivery job is published when the send time comes.")
    if facts.status == status.QUEUED:
        return Diagnosis(WAITING, "Queued: RabbitMQ holds the delivery job; no worker has run it yet.",
                         ("A long wait means a deep queue or no consumer: see the dashboard.",))
    return Diagnosis(WAITING, "Accepted: committed, but the delivery job is not published yet.",
                     ("The outbox sweeper publishes it within seconds; a long wait means RabbitMQ or the "
                      "sweeper is down: see the outbox backlog on the dashboard.",))


def _placed(facts: RecipientFacts) -> Diagnosis:
    """In the recipient's stream but not acknowledged: did a push go out?"""
    pending = "Placed in the recipient's stream; no device acknowledged it yet."
    if facts.pushes:
        return _pushed(facts.pushes, pending)
    if not facts.push_enabled:
        return Diagnosis(WAITING, pending + " Push is off on this server; the app gets it when it connects.")
    if facts.devices == 0:
        return Diagnosis(WAITING, pending + " No push was sent: the recipient has no device registered. "
                                            "The app gets it when it next connects.")
    return Diagnosis(WAITING, pending + " No push was sent: the recipient was online when it was placed "
                                        "(the socket carries it), or the device was registered later.")


def _pushed(facts: tuple[PushFact, ...], pending: str) -> Diagnosis:
    done = [p for p in facts if p.status in (pushes.SENT, pushes.LOGGED)]
    trying = [p for p in facts if p.status == pushes.SENDING]
    refused = [p for p in facts if p.status in (pushes.FAILED, pushes.PRUNED)]
    if done:
        text = f"{pending} The push provider took the notification for {_devices(len(done))}."
        return Diagnosis(WAITING, text + (f" {_devices(len(refused))} refused." if refused else ""))
    if trying:
        error = next((p.last_error for p in trying if p.last_error), None)
        return Diagnosis(WAITING if error is None else PROBLEM,
                         f"{pending} The push is being retried" + (f": {error}" if error else "") + ".")
    errors = "; ".join(sorted({p.last_error for p in refused if p.last_error})) or "no reason recorded"
    return Diagnosis(PROBLEM, f"{pending} Every push was refused ({errors}).",
                     ("A pruned device is gone: the user must open the app to register again.",))


def _devices(count: int) -> str:
    return f"{count} device{'' if count == 1 else 's'}"
