"""The audit log: who did what to which object, and when.

`audit` is the one writer: every caller passes the session of the unit of
work that does what it records, so an entry commits with its action or not
at all. `actor_id` is None for the system actor (an operator at the
`herald` command) and for nobody-yet (a failed sign-in); `details["via"]`
says which door the action came through. Details never hold secrets:
`audit` refuses the names passwords, codes and tokens go by.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditEntry
from pipeline.timestamps import iso

# What the log records (the audit page offers these in its filter).
ACTIONS = (
    "sign_in.password", "sign_in.otp", "sign_in.admin_page", "sign_in.failed",
    "user.create", "user.disable", "user.enable", "user.password_reset", "user.sessions_revoked",
    "user.role_change",
    "dead_letter.requeue", "dead_letter.discard", "deliveries.reset_failed",
    "conversation.scoped_token", "conversation.close", "conversation.reopen",
    "api_key.create", "api_key.revoke",
    "webhook.create", "webhook.update", "webhook.delete", "webhook.secret_rotate", "webhook.ping",
    "webhook.redeliver",
)
# Names a secret would travel under: refused outright, whatever their value.
SECRET_KEYS = frozenset({"password", "password_hash", "new_password", "code", "otp", "token", "access_token",
                         "refresh_token", "ticket", "secret"})


@dataclass(frozen=True)
class Actor:
    """Who acts (an admin, or None: the system), through which door (`api`,
    `admin_page`, `cli`), from which address when the door has one."""

    user_id: int | None
    via: str
    address: str | None = None

    def details(self, **more) -> dict:
        door = {"via": self.via} if self.address is None else {"via": self.via, "address": self.address}
        return {**door, **more}


def audit(session: Session, *, actor_id: int | None, action: str, target_type: str, target_id: str | int | None,
          details: dict, now: datetime) -> None:
    """Add one entry to the caller's transaction.

    Raises:
        ValueError: `details` names a secret (a programming error, never shown to a client).
    """
    leaked = SECRET_KEYS.intersection(details)
    if leaked:
        raise ValueError(f"audit details must not carry secrets: {sorted(leaked)}")
    session.add(AuditEntry(actor_id=actor_id, action=action, target_type=target_type,
                           target_id=None if target_id is None else str(target_id), details=details,
                           created_at=now))


def entries_for(session: Session, target_type: str, target_id: str | int) -> list[AuditEntry]:
    """Every entry about one object, oldest first."""
    return list(session.scalars(
        select(AuditEntry).where(AuditEntry.target_type == target_type,
                                 AuditEntry.target_id == str(target_id))
        .order_by(AuditEntry.id)))


def entry_view(entry: AuditEntry) -> dict:
    return {"id": entry.id, "actor_id": entry.actor_id, "action": entry.action,
            "target_type": entry.target_type, "target_id": entry.target_id, "details": entry.details,
            "created_at": iso(entry.created_at)}
