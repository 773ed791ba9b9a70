"""The admin's view of accounts: search by phone, username or name; one
account with its devices, live sessions and history; creating business and
admin accounts (audited)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import and_, func, or_, select

from db.engine import UnitOfWork
from db.models import RefreshToken, User
from pipeline.cursors import decode_cursor, encode_cursor
from pipeline.errors import NotFound, ValidationFailed
from pipeline.phones import normalize_phone
from pipeline.timestamps import iso
from usecases.accounts.devices import device_view, devices_of
from usecases.accounts.passwords import PASSWORD_ROLES, hash_password
from usecases.accounts.users import create_user
from usecases.operations.audit import Actor, audit
from usecases.operations.audit_log import AuditFilter, audit_page
from usecases.ports import Ports


@dataclass(frozen=True)
class UserQuery:
    """Free text matched against phone (its digits, a leading 0 dropped),
    username (prefix), name (contains) and id, case-insensitively; an
    optional role and state."""

    text: str | None = None
    role: str | None = None
    disabled: bool | None = None


def user_view(user: User) -> dict:
    """What the admin API and pages show of an account (never its password hash)."""
    return {"id": user.id, "role": user.role, "phone": user.phone, "username": user.username, "name": user.name,
            "created_at": iso(user.created_at), "activated_at": iso(user.activated_at),
            "disabled_at": iso(user.disabled_at), "disabled": user.disabled_at is not None,
            "token_generation": user.token_generation}


def search_users(ports: Ports, query: UserQuery, *, limit: int, cursor: str | None = None) -> dict:
    """Newest accounts first: `items` and `next_cursor`.

    Raises:
        BadRequest: a cursor that is not one of ours.
    """
    where = _conditions(query)
    if cursor:
        created_at, user_id = decode_cursor(cursor)
        where.append(or_(User.created_at < created_at, and_(User.created_at == created_at, User.id < user_id)))
    with UnitOfWork(ports.sessions) as uow:
        rows = list(uow.session.scalars(select(User).where(*where)
                                        .order_by(User.created_at.desc(), User.id.desc()).limit(limit + 1)))
    page = rows[:limit]
    more = len(rows) > limit
    return {"items": [user_view(u) for u in page],
            "next_cursor": encode_cursor(page[-1].created_at, page[-1].id) if more else None}


def _conditions(query: UserQuery) -> list:
    where = []
    text = (query.text or "").strip()
    if text:
        like = "%" + _escaped(text.lower()) + "%"
        matches = [func.lower(User.username).like(_escaped(text.lower()) + "%", escape="\\"),
                   func.lower(User.name).like(like, escape="\\")]
        # A national number's trunk 0 ("081 234 5678") is not in the E.164 form.
        digits = re.sub(r"[^0-9]", "", text).lstrip("0")
        if digits and re.fullmatch(r"[+0-9 ()\-.]+", text):
            matches.append(User.phone.like("%" + digits + "%"))
        if text.isdigit():
            matches.append(User.id == int(text))
        where.append(or_(*matches))
    if query.role:
        where.append(User.role == query.role)
    if query.disabled is not None:
        where.append(User.disabled_at.is_not(None) if query.disabled else User.disabled_at.is_(None))
    return where


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def user_detail(ports: Ports, user_id: int) -> dict:
    """The account, its devices, how many sessions are live, and its latest history.

    Raises:
        NotFound: no such user.
    """
    now = datetime.now(timezone.utc)
    with UnitOfWork(ports.sessions) as uow:
        user = uow.session.get(User, user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        live = uow.session.scalar(select(func.count(func.distinct(RefreshToken.family))).where(
            RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None), RefreshToken.used_at.is_(None),
            RefreshToken.expires_at > now))
        answer = {**user_view(user), "live_sessions": live,
                  "devices": [device_view(d) for d in devices_of(uow.session, user_id)]}
    history = audit_page(ports, AuditFilter(target_type="user", target_id=str(user_id)), limit=20)
    return {**answer, "history": history["items"]}


def create_account(ports: Ports, actor: Actor, *, role: str, username: str, password: str,
                   name: str | None = None, phone: str | None = None) -> dict:
    """A business or admin account that signs in with `password` (audited).

    Raises:
        ValidationFailed: another role. Conflict: the username or phone is taken.
        InvalidPhoneNumber: as normalize_phone.
    """
    if role not in PASSWORD_ROLES:
        raise ValidationFailed(f"admins create {' or '.join(PASSWORD_ROLES)} accounts; mobile users sign up by code")
    now = datetime.now(timezone.utc)
    with UnitOfWork(ports.sessions) as uow:
        user = create_user(uow.session, role=role, now=now, phone=normalize_phone(phone) if phone else None,
                           name=name, username=username, password_hash=hash_password(password))
        audit(uow.session, actor_id=actor.user_id, action="user.create", target_type="user", target_id=user.id,
              details=actor.details(role=role, username=username), now=now)
        uow.commit()
        return user_view(user)
