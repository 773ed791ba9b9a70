"""Phone numbers: mobile users are identified by E.164 numbers.

The one home for reading a number anybody typed (the API's targets and
sign-in, the `herald` command). With a default region (DEFAULT_PHONE_REGION,
e.g. TH) a number in national form ("081 234 5678") is read as that
region's; without one, only the international form ("+66 81 234 5678").
"""

from __future__ import annotations

import phonenumbers

from pipeline.errors import InvalidPhoneNumber

# What a number in national form is written with (besides digits).
_NATIONAL_PUNCTUATION = set(" -().")


def normalize_phone(raw: str, region: str | None = None) -> str:
    """The E.164 form of `raw` ("+66812345678").

    Raises:
        InvalidPhoneNumber: when `raw` is not a valid number (international,
            or national in `region`).
    """
    text = raw.strip() if isinstance(raw, str) else ""
    international = text.startswith("+")
    if not international and region is None:
        raise InvalidPhoneNumber("phone numbers must be in international form, e.g. +66812345678")
    try:
        parsed = phonenumbers.parse(text, None if international else region)
    except phonenumbers.NumberParseException as e:
        raise InvalidPhoneNumber(f"not a phone number: {e}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(raw: object, region: str | None = None) -> bool:
    """True for strings written as an international number, or — with a
    default region — as digits only (a national number, not a username)."""
    if not isinstance(raw, str):
        return False
    text = raw.strip()
    if text.startswith("+"):
        return True
    return region is not None and any(c.isdigit() for c in text) and \
        all(c.isdigit() or c in _NATIONAL_PUNCTUATION for c in text)
