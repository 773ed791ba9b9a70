"""API keys as text: how a secret looks, how it is stored, what a cached
entry says (docs/decisions.md D75, D76). No I/O.

A secret is `hk_` and 43 url-safe characters (32 random bytes). Only its
SHA-256 is stored: a 256-bit random secret cannot be guessed from its hash,
so a slow password hash (argon2) would buy nothing and cost tens of
milliseconds on every request the key authenticates.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

SECRET_PREFIX = "hk_"
SHOWN_CHARACTERS = 11  # "hk_" and 8 more: enough for a person to tell keys apart
NO_KEY = "none"  # the cached entry of a hash that is not (or no longer) a key


@dataclass(frozen=True)
class KeyHolder:
    """Whom a valid key acts as."""

    key_id: int
    user_id: int
    role: str


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def looks_like_api_key(token: str) -> bool:
    return token.startswith(SECRET_PREFIX)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def shown_prefix(secret: str) -> str:
    return secret[:SHOWN_CHARACTERS]


def encode_entry(holder: KeyHolder | None) -> str:
    return NO_KEY if holder is None else f"{holder.key_id}:{holder.user_id}:{holder.role}"


def decode_entry(entry: str) -> KeyHolder | None:
    if entry == NO_KEY:
        return None
    key_id, user_id, role = entry.split(":", 2)
    return KeyHolder(int(key_id), int(user_id), role)
