"""Sending one-time codes by SMS, behind a small pluggable interface."""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("herald.sms")


class SmsSender(Protocol):
    def send_code(self, phone: str, code: str) -> None:
        """Deliver `code` to `phone` (E.164)."""


class LogSmsSender:
    """Writes each code to the log: for development, demos and end-to-end tests."""

    def send_code(self, phone: str, code: str) -> None:
        # WARNING so the line shows at default log levels; e2e tests grep it.
        log.warning("OTP for %s: %s", phone, code)


SENDERS = {"log": LogSmsSender}


def make_sms_sender(name: str) -> SmsSender:
    """The sender named by the SMS_SENDER setting.

    Raises:
        RuntimeError: no sender has that name.
    """
    try:
        return SENDERS[name]()
    except KeyError:
        raise RuntimeError(f"unknown SMS_SENDER {name!r}; choose one of {', '.join(SENDERS)}") from None
