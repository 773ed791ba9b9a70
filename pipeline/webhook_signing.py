"""Webhook signatures: `Herald-Signature: t=<unix>,v1=<hex>[,v1=<hex>]`.

v1 is the hex HMAC-SHA256 of "<t>.<raw body>" with an endpoint secret;
during a rotation a second v1 is made with the previous secret, so a
receiver that still holds the old one keeps verifying (Stripe's scheme).
Computation only, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Herald-Signature"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    """The header's value, one v1 per secret (current first)."""
    return ",".join([f"t={timestamp}"] + [f"v1={signature(s, timestamp, body)}" for s in secrets])


def verify(header: str, secret: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does (and our tests): any v1 matches, and t is recent."""
    parts = [part.partition("=") for part in header.split(",")]
    stamps = [value for key, _, value in parts if key == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > tolerance:
        return False
    expected = signature(secret, int(stamps[0]), body)
    return any(key == "v1" and hmac.compare_digest(value, expected) for key, _, value in parts)
