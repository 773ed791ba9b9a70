"""Access tokens: only a well-formed, correctly signed, current token for us verifies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from config import load_settings
from pipeline.errors import InvalidToken
from web.auth.tokens import REQUIRED_CLAIMS, TokenConfig, issue_access_token, verify_access_token

SECRET = "unit-test-secret-" + "s" * 50
CONFIG = TokenConfig("HS256", SECRET, SECRET, "herald", "herald-api", 3600)


def _claims(**overrides) -> dict:
    now = datetime.now(timezone.utc)
    claims = {"sub": "42", "role": "mobile", "iss": "herald", "aud": "herald-api",
              "iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=5)).timestamp())}
    claims.update(overrides)
    return claims


def _pem_pair(private_key) -> tuple[str, str]:
    private = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    public = private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_valid_token_round_trips_its_user_and_role():
    token = issue_access_token(CONFIG, user_id=42, role="business")
    claims = verify_access_token(CONFIG, token)
    assert (claims.user_id, claims.role) == (42, "business")


def test_an_expired_token_is_refused():
    token = issue_access_token(CONFIG, user_id=1, role="mobile",
                               now=datetime.now(timezone.utc) - timedelta(hours=2), ttl_seconds=60)
    with pytest.raises(InvalidToken, match="expired"):
        verify_access_token(CONFIG, token)


def test_a_token_with_a_tampered_signature_is_refused():
    head, payload, signature = issue_access_token(CONFIG, user_id=1, role="mobile").split(".")
    forged = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    with pytest.raises(InvalidToken):
        verify_access_token(CONFIG, f"{head}.{payload}.{forged}")


def test_a_token_with_a_tampered_payload_is_refused():
    head, _, signature = issue_access_token(CONFIG, user_id=1, role="mobile").split(".")
    payload = _b64(json.dumps(_claims(role="admin")).encode())
    with pytest.raises(InvalidToken):
        verify_access_token(CONFIG, f"{head}.{payload}.{signature}")


def test_an_unsigned_alg_none_token_is_refused():
    token = jwt.encode(_claims(), None, algorithm="none")
    with pytest.raises(InvalidToken):
        verify_access_token(CONFIG, token)


def test_an_hs512_token_is_refused_when_hs256_is_pinned():
    token = jwt.encode(_claims(), SECRET, algorithm="HS512")
    with pytest.raises(InvalidToken):
        verify_access_token(CONFIG, token)


def test_a_token_for_another_audience_is_refused():
    token = issue_access_token(replace(CONFIG, audience="someone-else"), user_id=1, role="mobile")
    with pytest.raises(InvalidToken, match="not meant for this service"):
        verify_access_token(CONFIG, token)


def test_a_token_from_another_issuer_is_refused():
    token = issue_access_token(replace(CONFIG, issuer="evil"), user_id=1, role="mobile")
    with pytest.raises(InvalidToken):
        verify_access_token(CONFIG, token)


@pytest.mark.parametrize("missing", REQUIRED_CLAIMS)
def test_a_token_missing_a_required_claim_is_refused(missing):
    claims = _claims()
    del claims[missing]
    with pytest.raises(InvalidToken):
        verify_access_token(CONFIG, jwt.encode(claims, SECRET, algorithm="HS256"))


def test_garbage_is_refused():
    with pytest.raises(InvalidToken):
        verify_access_token(CONFIG, "not.a.token")


@pytest.mark.parametrize("algorithm, private_key", [
    ("RS256", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    ("ES256", lambda: ec.generate_private_key(ec.SECP256R1())),
])
def test_asymmetric_configs_sign_and_verify(algorithm, private_key, tmp_path):
    private, public = _pem_pair(private_key())
    settings = load_settings({"JWT_SECRET": SECRET, "JWT_ALGORITHM": algorithm, "JWT_PRIVATE_KEY": private,
                              "JWT_PUBLIC_KEY": public, "HERALD_DATA_DIR": str(tmp_path)})
    config = TokenConfig.from_settings(settings)
    token = issue_access_token(config, user_id=7, role="admin")
    assert jwt.get_unverified_header(token)["alg"] == algorithm
    assert verify_access_token(config, token).user_id == 7
    with pytest.raises(InvalidToken):
        verify_access_token(config, jwt.encode(_claims(), SECRET, algorithm="HS256"))


def test_a_token_signed_with_another_rs256_key_is_refused():
    private, public = _pem_pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    stranger, _ = _pem_pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    config = TokenConfig("RS256", private, public, "herald", "herald-api", 3600)
    with pytest.raises(InvalidToken):
        verify_access_token(config, jwt.encode(_claims(), stranger, algorithm="RS256"))


def test_an_hs256_token_keyed_with_the_rs256_public_key_is_refused():
    private, public = _pem_pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    config = TokenConfig("RS256", private, public, "herald", "herald-api", 3600)
    header = json.dumps({"alg": "HS256", "typ": "JWT"}).encode()
    signing_input = f"{_b64(header)}.{_b64(json.dumps(_claims()).encode())}"
    signature = hmac.new(public.encode(), signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken):
        verify_access_token(config, f"{signing_input}.{_b64(signature)}")


def test_an_unknown_algorithm_setting_fails_at_start_up(tmp_path):
    settings = load_settings({"JWT_SECRET": SECRET, "JWT_ALGORITHM": "none", "HERALD_DATA_DIR": str(tmp_path)})
    with pytest.raises(RuntimeError):
        TokenConfig.from_settings(settings)


# Verified claims are cached per exact token: a hit must answer as PyJWT would.

def test_a_cached_token_is_refused_once_it_expires(monkeypatch):
    import web.auth.tokens as tokens
    token = jwt.encode(_claims(exp=int(datetime.now(timezone.utc).timestamp()) + 30), SECRET, algorithm="HS256")
    assert verify_access_token(CONFIG, token).user_id == 42
    assert verify_access_token(CONFIG, token).user_id == 42  # served from the cache
    real_time = tokens.time.time
    monkeypatch.setattr(tokens.time, "time", lambda: real_time() + 31)
    monkeypatch.setattr(jwt.api_jwt, "datetime", _ShiftedDatetime)
    with pytest.raises(InvalidToken, match="expired"):
        verify_access_token(CONFIG, token)


class _ShiftedDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.now(tz) + timedelta(seconds=31)


def test_the_cache_is_keyed_by_the_exact_token_and_config():
    token = jwt.encode(_claims(), SECRET, algorithm="HS256")
    verify_access_token(CONFIG, token)
    with pytest.raises(InvalidToken):
        verify_access_token(CONFIG, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    with pytest.raises(InvalidToken):
        verify_access_token(replace(CONFIG, verify_key="another-secret-" + "x" * 50), token)
    with pytest.raises(InvalidToken):
        verify_access_token(replace(CONFIG, audience="someone-else"), token)


def test_the_cache_keeps_a_token_at_most_a_short_while_and_is_bounded():
    from web.auth.tokens import make_verified_cache
    clock = [0.0]
    cache = make_verified_cache(max_tokens=2, keep_seconds=10, timer=lambda: clock[0])
    cache[(CONFIG, "a")] = ("claims-a", 1_000)
    clock[0] = 9.9
    assert cache.get((CONFIG, "a")) == ("claims-a", 1_000)
    clock[0] = 10
    assert cache.get((CONFIG, "a")) is None  # kept 10 s, though exp is later
    clock[0] = 0
    cache[(CONFIG, "b")] = ("claims-b", 5)
    clock[0] = 5
    assert cache.get((CONFIG, "b")) is None  # never past exp
    clock[0] = 0
    for name in "cde":
        cache[(CONFIG, name)] = (name, 1_000)
    clock[0] = 1
    assert cache.get((CONFIG, "c")) is None  # only the two most recent are kept
    assert cache.get((CONFIG, "d")) == ("d", 1_000) and cache.get((CONFIG, "e")) == ("e", 1_000)
