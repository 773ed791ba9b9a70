"""API keys: a business's credentials for server-to-server sending
(docs/decisions.md D75–D77). Created for business users only, shown once,
stored as a hash, revoked at once on every edge process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select, update

from db.engine import UnitOfWork
from db.models import ApiKey, User
from pipeline.api_keys import (KeyHolder, decode_entry, encode_entry, new_secret, secret_hash, shown_prefix)
from pipeline.cursors import decode_cursor, encode_cursor
from pipeline.errors import ApiKeyLimitReached, DependencyUnavailable, InvalidToken, NotFound, UserNotFound
from pipeline.timestamps import iso
from usecases.operations.audit import Actor, audit
from usecases.ports import Ports, SessionFactory

MAX_KEYS_PER_USER = 20
CACHED_SECONDS = 300  # a valid key's entry; a revocation replaces it at once
TOUCH_SECONDS = 60  # last_used_at is written at most once a minute per key


def create_key(sessions: SessionFactory, owner_id: int, name: str, now: datetime, actor: Actor) -> dict:
    """A new key of a business user, with its secret (the one time it is shown);
    audited as `api_key.create` (the owner itself, an admin, or the command line).

    Raises:
        UserNotFound: the owner is not a business user.
        ApiKeyLimitReached: the owner has MAX_KEYS_PER_USER keys in use.
    """
    secret = new_secret()
    with UnitOfWork(sessions) as uow:
        owner = uow.session.execute(select(User.role).where(User.id == owner_id).with_for_update()).first()
        if owner is None or owner.role != "business":
            raise UserNotFound(f"no business user {owner_id}: API keys act for business users")
        in_use = uow.session.scalar(select(func.count()).select_from(ApiKey)
                                    .where(ApiKey.user_id == owner_id, ApiKey.revoked_at.is_(None)))
        if in_use >= MAX_KEYS_PER_USER:
            raise ApiKeyLimitReached(f"at most {MAX_KEYS_PER_USER} keys in use; revoke one first")
        key = ApiKey(user_id=owner_id, name=name, prefix=shown_prefix(secret), secret_hash=secret_hash(secret),
                     created_at=now)
        uow.session.add(key)
        uow.session.flush()
        _audit(uow.session, actor, "api_key.create", key, now)
        view = {**key_view(key), "secret": secret}
        uow.commit()
    return view


def keys_of(ports: Ports, owner_id: int, *, limit: int, cursor: str | None) -> dict:
    """The owner's keys in use, oldest first: `items` and `next_cursor`.

    Raises:
        BadRequest: a cursor that is not one of ours.
    """
    where = [ApiKey.user_id == owner_id, ApiKey.revoked_at.is_(None)]
    if cursor:
        created_at, key_id = decode_cursor(cursor)
        where.append(or_(ApiKey.created_at > created_at, and_(ApiKey.created_at == created_at, ApiKey.id > key_id)))
    with UnitOfWork(ports.sessions) as uow:
        rows = list(uow.session.scalars(select(ApiKey).where(*where)
                                        .order_by(ApiKey.created_at, ApiKey.id).limit(limit + 1)))
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else None
    return {"items": [key_view(key) for key in page], "next_cursor": next_cursor}


def revoke_key(ports: Ports, key_id: int, actor: Actor, caller_is_admin: bool, now: datetime) -> None:
    """Revoke a key (the owner's, or any for an admin); revoking it again
    answers the same, so a DELETE that failed half-way can be repeated.
    The revocation itself is audited (`api_key.revoke`), a repeat is not.

    Raises:
        NotFound: no such key, or another user's (it looks absent).
        DependencyUnavailable: the edge processes could not be told; repeat the call.
    """
    with UnitOfWork(ports.sessions) as uow:
        key = uow.session.get(ApiKey, key_id)
        if key is None or not (caller_is_admin or key.user_id == actor.user_id):
            raise NotFound(f"no API key {key_id}")
        if key.revoked_at is None:
            key.revoked_at = now
            _audit(uow.session, actor, "api_key.revoke", key, now)
        hashed = key.secret_hash
        uow.commit()
    # After the commit: a lookup that fills the cache from now on reads the
    # revocation; one that read the key before it cannot overwrite this.
    if ports.key_cache is not None:
        ports.key_cache.revoke(hashed)


def authenticate_key(ports: Ports, secret: str, now: datetime) -> KeyHolder:
    """Whom `secret` acts as: one cache round trip when the key is cached,
    one statement when not, plus one write of last_used_at a minute.

    Raises:
        InvalidToken: not a key, or a revoked one.
    """
    hashed = secret_hash(secret)
    entry, first_use = _cached(ports, hashed)
    if entry is not None:
        holder = decode_entry(entry)
        if holder is not None and first_use:
            _note_use(ports, holder.key_id, now)
    else:
        holder = _read_key(ports, hashed, now, touch=first_use)
        _fill(ports, hashed, holder)
    if holder is None:
        raise InvalidToken("the API key is not valid")
    return holder


def _cached(ports: Ports, hashed: str) -> tuple[str | None, bool]:
    if ports.key_cache is None:
        return None, True
    try:
        return ports.key_cache.lookup(hashed, TOUCH_SECONDS)
    except DependencyUnavailable:
        return None, False  # Redis is away: the database answers; last use waits


def _fill(ports: Ports, hashed: str, holder: KeyHolder | None) -> None:
    if ports.key_cache is None:
        return
    try:
        ports.key_cache.fill(hashed, encode_entry(holder), CACHED_SECONDS)
    except DependencyUnavailable:
        pass  # the next request reads the database again


def _read_key(ports: Ports, hashed: str, now: datetime, *, touch: bool) -> KeyHolder | None:
    """The key's holder from the database; with `touch`, noting its use in the same statement."""
    # A key acts only for an enabled business user: a role change or a
    # disable long past the edges' revocation lists still refuses it here (D85).
    holders = select(User.id).where(User.role == "business", User.disabled_at.is_(None))
    valid = (ApiKey.secret_hash == hashed, ApiKey.revoked_at.is_(None), ApiKey.user_id.in_(holders))
    with UnitOfWork(ports.sessions) as uow:
        if touch:
            row = uow.session.execute(update(ApiKey).where(*valid).values(last_used_at=now)
                                      .returning(ApiKey.id, ApiKey.user_id)).first()
            uow.commit()
        else:
            row = uow.session.execute(select(ApiKey.id, ApiKey.user_id).where(*valid)).first()
    return KeyHolder(row.id, row.user_id, "business") if row is not None else None


def _note_use(ports: Ports, key_id: int, now: datetime) -> None:
    with UnitOfWork(ports.sessions) as uow:
        uow.session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
        uow.commit()


def _audit(session, actor: Actor, action: str, key: ApiKey, now: datetime) -> None:
    """The entry names the key by id, owner, name and shown prefix: never its secret or hash."""
    audit(session, actor_id=actor.user_id, action=action, target_type="api_key", target_id=key.id,
          details=actor.details(owner_id=key.user_id, name=key.name, prefix=key.prefix), now=now)


def key_view(key: ApiKey) -> dict:
    return {"id": key.id, "user_id": key.user_id, "name": key.name, "prefix": key.prefix,
            "created_at": iso(key.created_at), "last_used_at": iso(key.last_used_at)}
