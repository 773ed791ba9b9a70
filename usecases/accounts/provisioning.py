"""Accounts an operator provisions at the `herald` command, and the
embedded mode's demo users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from db.engine import UnitOfWork
from db.models import User
from pipeline.phones import normalize_phone
from usecases.accounts.passwords import hash_password
from usecases.accounts.users import claim_placeholder, create_user
from usecases.operations.audit import audit
from usecases.ports import SessionFactory


@dataclass(frozen=True)
class Provisioned:
    """An account as the command prints it (and mints a token for)."""

    id: int
    role: str
    name: str | None = None
    phone: str | None = None
    username: str | None = None
    generation: int = 0  # the token generation its access tokens carry (D60)
    disabled: bool = False


def provision_user(sessions: SessionFactory, *, role: str, now: datetime, phone: str | None = None,
                   name: str | None = None, username: str | None = None,
                   password: str | None = None, phone_region: str | None = None) -> Provisioned:
    """Create an activated account, audited as the system's (via "cli"); for
    a mobile number that was messaged before it had one, make its
    placeholder the account (same id, waiting messages kept). A number with
    a real account still conflicts.

    Raises:
        InvalidPhoneNumber, ValidationFailed, Conflict: as create_user.
    """
    number = normalize_phone(phone, phone_region) if phone else None
    password_hash = hash_password(password) if password else None
    with UnitOfWork(sessions) as uow:
        user = claim_placeholder(uow.session, phone=number, now=now, name=name, username=username,
                                 password_hash=password_hash) if role == "mobile" and number else None
        claimed = user is not None
        if user is None:
            user = create_user(uow.session, role=role, now=now, phone=number, name=name, username=username,
                               password_hash=password_hash)
        audit(uow.session, actor_id=None, action="user.create", target_type="user", target_id=user.id,
              details={"via": "cli", "role": role, "username": username, "placeholder_claimed": claimed},
              now=now)
        uow.commit()
        return _provisioned(user)


def find_user(sessions: SessionFactory, user_id: int) -> Provisioned | None:
    with UnitOfWork(sessions) as uow:
        user = uow.session.get(User, user_id)
        return _provisioned(user) if user is not None else None


def ensure_demo_users(sessions: SessionFactory, specs: list[dict], now: datetime) -> list[Provisioned]:
    """Create the demo users in an empty database; the demo users either way."""
    with UnitOfWork(sessions) as uow:
        if uow.session.scalar(select(User.id).limit(1)) is None:
            for spec in specs:
                password = spec.get("password")
                create_user(uow.session, now=now, password_hash=hash_password(password) if password else None,
                            **{k: v for k, v in spec.items() if k != "password"})
            uow.commit()
    return demo_users(sessions, specs)


def demo_users(sessions: SessionFactory, specs: list[dict]) -> list[Provisioned]:
    """The accounts named by the demo specs (by username or phone), oldest first."""
    usernames = [s["username"] for s in specs if "username" in s]
    phones = [s["phone"] for s in specs if "phone" in s]
    with UnitOfWork(sessions) as uow:
        users = uow.session.scalars(select(User).where(or_(User.username.in_(usernames), User.phone.in_(phones)))
                                    .order_by(User.id)).all()
        return [_provisioned(user) for user in users]


def _provisioned(user: User) -> Provisioned:
    return Provisioned(user.id, user.role, user.name, user.phone, user.username, user.token_generation,
                       user.disabled_at is not None)
