"""One-time sign-in codes for mobile numbers: only a keyed hash is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import OtpCode
from pipeline.errors import HeraldError, InvalidOtp, TooManyAttempts

CODE_DIGITS = 6


def code_digest(pepper: str, phone: str, code: str) -> str:
    """HMAC-SHA256 of the code bound to its phone: a leaked table reveals no codes."""
    return hmac.new(pepper.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def issue_otp(session: Session, phone: str, *, now: datetime, ttl_seconds: int, pepper: str) -> str:
    """A fresh code for `phone`; any older live code stops working."""
    session.execute(update(OtpCode)
                    .where(OtpCode.phone == phone, OtpCode.consumed_at.is_(None), OtpCode.expires_at > now)
                    .values(expires_at=now))
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    session.add(OtpCode(phone=phone, code_hash=code_digest(pepper, phone, code), attempts=0,
                        created_at=now, expires_at=now + timedelta(seconds=ttl_seconds)))
    session.flush()
    return code


def consume_otp(session: Session, phone: str, code: str, *, now: datetime, max_attempts: int,
                pepper: str) -> HeraldError | None:
    """Spend the phone's current code if `code` is it; otherwise the refusal to raise.

    A wrong guess is counted on the code, so the caller commits before raising.
    """
    row = session.execute(
        select(OtpCode, OtpCode.expires_at > now)
        .where(OtpCode.phone == phone).order_by(OtpCode.id.desc()).limit(1)
        .with_for_update()
    ).first()
    if row is None or row[0].consumed_at is not None or not row[1]:
        return InvalidOtp("the code is wrong or has expired; request a new one")
    otp = row[0]
    if otp.attempts >= max_attempts:
        return TooManyAttempts("too many wrong codes; request a new one")
    if not hmac.compare_digest(otp.code_hash, code_digest(pepper, phone, code)):
        otp.attempts += 1
        return InvalidOtp("the code is wrong or has expired")
    otp.consumed_at = now
    return None
