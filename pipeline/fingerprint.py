"""Request fingerprints for Idempotency-Key: same key + same request."""

from __future__ import annotations

import hashlib
import json


def request_fingerprint(method: str, path: str, body: object) -> str:
    """A stable digest of a request; key order in JSON bodies does not matter."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()
