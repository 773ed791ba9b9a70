"""Phone numbers: mobile users are identified by E.164 numbers."""

from __future__ import annotations

import phonenumbers

from pipeline.errors import InvalidPhoneNumber


def normalize_phone(raw: str) -> str:
    """The E.164 form of `raw` ("+66812345678").

    Raises:
        InvalidPhoneNumber: when `raw` is not a valid international number.
    """
    if not isinstance(raw, str) or not raw.strip().startswith("+"):
        raise InvalidPhoneNumber("phone numbers must be in international form, e.g. +66812345678")
    try:
        parsed = phonenumbers.parse(raw.strip(), None)
    except phonenumbers.NumberParseException as e:
        raise InvalidPhoneNumber(f"not a phone number: {e}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(raw: object) -> bool:
    """True for strings written as an international number."""
    return isinstance(raw, str) and raw.strip().startswith("+")
