"""JWT access tokens (PyJWT) with pinned algorithms and required claims.

HS256 with a shared secret by default; RS256/ES256 when a key pair is
configured. `alg=none`, another algorithm, a wrong issuer or audience, a
missing claim, a bad signature or an expired token are all refused.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt
from cachetools import TLRUCache

from pipeline.errors import InvalidToken

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "role"]
ASYMMETRIC = ("RS256", "ES256")
# Verified claims are kept this long (never past the token's `exp`), for at
# most this many tokens: a client sending many requests with one token pays
# for one signature check, not one per request.
VERIFIED_FOR_SECONDS = 60.0
VERIFIED_MAX_TOKENS = 4096


@dataclass(frozen=True)
class TokenConfig:
    algorithm: str
    signing_key: str
    verify_key: str
    issuer: str
    audience: str
    ttl_seconds: int

    @classmethod
    def from_settings(cls, settings) -> "TokenConfig":
        algorithm = settings.jwt_algorithm
        if algorithm in ASYMMETRIC:
            if not (settings.jwt_private_key and settings.jwt_public_key):
                raise RuntimeError(f"{algorithm} needs JWT_PRIVATE_KEY and JWT_PUBLIC_KEY")
            signing, verifying = settings.jwt_private_key, settings.jwt_public_key
        elif algorithm == "HS256":
            signing = verifying = settings.jwt_secret
        else:
            raise RuntimeError(f"unsupported JWT_ALGORITHM {algorithm!r}")
        return cls(algorithm, signing, verifying, settings.jwt_issuer, settings.jwt_audience,
                   settings.access_token_ttl_seconds)


@dataclass(frozen=True)
class Claims:
    user_id: int
    role: str
    context: str | None = None
    api_key_id: int | None = None  # set when an API key, not a token, authenticated the request (D77)
    generation: int = 0  # the `gen` claim: the user's token generation when it was signed (D60)


def issue_access_token(config: TokenConfig, *, user_id: int, role: str,
                       now: datetime | None = None, ttl_seconds: int | None = None,
                       context: int | None = None, generation: int = 0) -> str:
    """A signed access token; `context` (a conversation id, the `ctx` claim)
    scopes it to that one conversation; `generation` (the `gen` claim) is
    the user's token generation, which a revocation raises past it."""
    now = now or datetime.now(timezone.utc)
    payload = {
        "sub": str(user_id),
        "role": role,
        "iss": config.issuer,
        "aud": config.audience,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds or config.ttl_seconds)).timestamp()),
        "gen": generation,
    }
    if context is not None:
        payload["ctx"] = context
    return jwt.encode(payload, config.signing_key, algorithm=config.algorithm)


def make_verified_cache(max_tokens: int, keep_seconds: float, timer=lambda: time.time()) -> TLRUCache:
    """A bounded LRU of tokens that verified: (config, exact token) → (claims,
    exp), each kept until min(`exp`, verified + `keep_seconds`). Only
    successes are kept; a token that once verified stays valid until its
    `exp` (the other checks do not depend on time), so a hit answers as
    PyJWT would. Revocation is not PyJWT's business: `web.auth.identity`
    checks the claims' `gen` against this process's revocation list after
    the cache, on every request (D60). Not thread-safe by itself: callers
    hold `_verified_lock`."""
    return TLRUCache(maxsize=max_tokens, ttu=lambda _key, entry, now: min(entry[1], now + keep_seconds),
                     timer=timer)


_verified = make_verified_cache(VERIFIED_MAX_TOKENS, VERIFIED_FOR_SECONDS)
_verified_lock = threading.Lock()


def verify_access_token(config: TokenConfig, token: str) -> Claims:
    """The claims of a valid token.

    Raises:
        InvalidToken: for any token that is not valid right now.
    """
    key = (config, token)
    with _verified_lock:
        hit = _verified.get(key)
    if hit is not None:
        return hit[0]
    try:
        payload = jwt.decode(token, config.verify_key, algorithms=[config.algorithm],
                             audience=config.audience, issuer=config.issuer,
                             options={"require": REQUIRED_CLAIMS})
        claims = Claims(user_id=int(payload["sub"]), role=str(payload["role"]), context=payload.get("ctx"),
                        generation=_generation(payload.get("gen", 0)))
    except (jwt.PyJWTError, ValueError) as e:
        raise InvalidToken(_reason(e)) from None
    # PyJWT refuses a token once now >= exp (no leeway is configured).
    with _verified_lock:
        _verified[key] = (claims, float(payload["exp"]))
    return claims


def _generation(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("gen must be a non-negative integer")
    return value


def _reason(error: Exception) -> str:
    if isinstance(error, jwt.ExpiredSignatureError):
        return "the token has expired"
    if isinstance(error, jwt.InvalidAudienceError):
        return "the token is not meant for this service"
    return "the token is not valid"
