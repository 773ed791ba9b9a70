"""What an admin does to an account: disable and enable it, reset its
password, end its sessions, change its role. Each is one unit of work
that locks the user, acts, and writes its audit entry in the same
transaction; revocations are announced to every edge after the commit
(usecases.accounts.revoking, docs/decisions.md D60)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import User
from pipeline.control import DISABLED, REVOKED
from pipeline.errors import Forbidden, LastAdmin, NotFound, ValidationFailed
from usecases.accounts.passwords import PASSWORD_ROLES, hash_password
from usecases.accounts.revoking import announce, revoke_tokens
from usecases.accounts.user_directory import user_view
from usecases.operations.audit import Actor, audit
from usecases.ports import Ports


def disable(ports: Ports, actor: Actor, user_id: int) -> dict:
    """Switch the account off: its tokens, refresh tokens, tickets and sockets stop working at once.

    Raises:
        NotFound. Forbidden: one's own account. LastAdmin: the last enabled admin.
    """
    def act(session: Session, user: User, now: datetime):
        _not_self(actor, user, "disable")
        if user.disabled_at is not None:
            return None, {"already": True}
        if user.role == "admin":
            _keep_an_admin(session, user)
        user.disabled_at = now
        revocation, spent = revoke_tokens(session, user, now, DISABLED)
        return revocation, {"refresh_tokens_revoked": spent}
    return _run(ports, actor, user_id, "user.disable", act)


def enable(ports: Ports, actor: Actor, user_id: int) -> dict:
    """Switch the account back on; its old tokens stay void (it signs in again).
    Announced like a revocation (a newer generation, reason "revoked"), so
    every edge lets the user's API keys through again at once (D85).

    Raises:
        NotFound.
    """
    def act(session: Session, user: User, now: datetime):
        if user.disabled_at is None:
            return None, {"already": True}
        user.disabled_at = None
        revocation, _ = revoke_tokens(session, user, now, REVOKED, refresh_tokens=False)
        return revocation, {}
    return _run(ports, actor, user_id, "user.enable", act)


def reset_password(ports: Ports, actor: Actor, user_id: int, password: str) -> dict:
    """A new password for a business or admin account; its sessions end.

    Raises:
        NotFound. ValidationFailed: a mobile account (it signs in by code).
    """
    def act(session: Session, user: User, now: datetime):
        if user.role not in PASSWORD_ROLES:
            raise ValidationFailed("mobile users sign in by texted code and have no password")
        user.password_hash = hash_password(password)
        revocation, spent = revoke_tokens(session, user, now, REVOKED)
        return revocation, {"refresh_tokens_revoked": spent}
    return _run(ports, actor, user_id, "user.password_reset", act)


def revoke_sessions(ports: Ports, actor: Actor, user_id: int) -> dict:
    """End every session: access and refresh tokens, tickets, open sockets.

    Raises:
        NotFound.
    """
    def act(session: Session, user: User, now: datetime):
        revocation, spent = revoke_tokens(session, user, now, REVOKED)
        return revocation, {"refresh_tokens_revoked": spent}
    return _run(ports, actor, user_id, "user.sessions_revoked", act)


def change_role(ports: Ports, actor: Actor, user_id: int, role: str) -> dict:
    """Business ↔ admin. Access tokens carry the role, so theirs are void
    and sockets close; the next refresh signs the new role.

    Raises:
        NotFound. ValidationFailed: a mobile account or role. Forbidden: one's own. LastAdmin.
    """
    def act(session: Session, user: User, now: datetime):
        if role not in PASSWORD_ROLES or user.role not in PASSWORD_ROLES:
            raise ValidationFailed(f"roles change between {' and '.join(PASSWORD_ROLES)} only")
        _not_self(actor, user, "change the role of")
        if user.role == role:
            return None, {"already": True, "to": role}
        if user.role == "admin":
            _keep_an_admin(session, user)
        before, user.role = user.role, role
        revocation, _ = revoke_tokens(session, user, now, REVOKED, refresh_tokens=False)
        return revocation, {"from": before, "to": role}
    return _run(ports, actor, user_id, "user.role_change", act)


def _run(ports: Ports, actor: Actor, user_id: int, action: str, act: Callable) -> dict:
    now = datetime.now(timezone.utc)
    with UnitOfWork(ports.sessions) as uow:
        user = uow.session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(f"no user {user_id}")
        revocation, details = act(uow.session, user, now)
        if not details.get("already"):
            audit(uow.session, actor_id=actor.user_id, action=action, target_type="user", target_id=user.id,
                  details=actor.details(**details), now=now)
        uow.commit()
        answer = user_view(user)
    if revocation is not None:
        announce(ports, revocation)
    return answer


def _not_self(actor: Actor, user: User, verb: str) -> None:
    if actor.user_id == user.id:
        raise Forbidden(f"admins cannot {verb} their own account")


def _keep_an_admin(session: Session, user: User) -> None:
    """Herald keeps one enabled admin: the others are locked, so two admins
    demoting each other at once cannot both succeed."""
    others = session.scalars(select(User.id).where(User.role == "admin", User.disabled_at.is_(None),
                                                   User.id != user.id).with_for_update()).all()
    if not others:
        raise LastAdmin("this is the last enabled admin")
