"""Push senders: FCM behind a circuit breaker (full mode), or a log line and
a `logged` row (embedded mode, the default when FCM is not configured).

A sender's `send(payload)` returns the status to record, or raises one of
our errors: PushTokenUnregistered (prune), PushRejected (give up),
PushProviderUnavailable / PushCircuitOpen (retry later).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Protocol

import dramatiq
import pybreaker

from pipeline import push as rules
from pipeline.errors import PushCircuitOpen, PushProviderUnavailable, PushRejected, PushTokenUnregistered
from workers import fcm

log = logging.getLogger(__name__)


class ProviderBusy(PushProviderUnavailable, dramatiq.Retry):
    """Over quota or unavailable, and the provider said when to come back:
    Dramatiq's Retries middleware reads `delay` from a dramatiq.Retry."""

    def __init__(self, detail: str, delay_ms: int):
        super().__init__(detail)
        self.delay = delay_ms


class CircuitOpen(PushCircuitOpen, dramatiq.Retry):
    """The breaker is open: come back when it lets a trial call through."""

    def __init__(self, detail: str, delay_ms: int):
        super().__init__(detail)
        self.delay = delay_ms


class LoggingSender:
    """Embedded mode: the `pushes` table is the outbox; nothing leaves the process."""

    def send(self, payload: rules.PushPayload) -> str:
        log.info("push (logged, no FCM configured) to %s device …%s: %s — %s",
                 payload.platform, payload.token[-6:], payload.title, payload.body)
        return rules.LOGGED

    def close(self) -> None:
        pass


class FcmSender:
    """firebase-admin's `messaging.send`, guarded by a pybreaker CircuitBreaker.

    The guarded call runs inside `breaker.calling()`, not `breaker.call()`:
    pybreaker 1.4.1's `call` holds the breaker's lock across the call
    (pybreaker #55), so one slow FCM answer would serialize every worker
    thread; `calling()` takes the lock only to check and update state.
    """

    def __init__(self, app, *, fail_max: int, reset_seconds: int, max_delay_ms: int):
        self.app = app
        self.max_delay_ms = max_delay_ms
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=fail_max, reset_timeout=reset_seconds, name="fcm",
            # Only the provider's trouble counts; a dead token is an answer.
            exclude=[lambda error: not _is_provider_trouble(error)],
            # Let the call that trips the breaker keep its own error (and Retry-After).
            throw_new_error_on_trip=False)

    def send(self, payload: rules.PushPayload) -> str:
        try:
            message = fcm.to_fcm_message(payload)
            with self.breaker.calling():
                fcm.send(self.app, message)
        except pybreaker.CircuitBreakerError:
            raise CircuitOpen("FCM calls are failing; the circuit is open",
                              min(self.breaker.reset_timeout * 1000, self.max_delay_ms)) from None
        except fcm.SDK_ERRORS as error:
            raise self._translate(error) from error
        except ValueError as error:  # the SDK validates messages before sending
            raise PushRejected(f"FCM message not valid: {error}") from error
        return rules.SENT

    def _translate(self, error: Exception) -> Exception:
        fcm_code, status, retry_after = fcm.failure_facts(error)
        detail = f"FCM {fcm_code or getattr(error, 'code', type(error).__name__)} ({status}): {error}"
        outcome = rules.classify_failure(fcm_code, status)
        if outcome == rules.PRUNE:
            return PushTokenUnregistered(detail)
        if outcome == rules.REJECT:
            return PushRejected(detail)
        delay_ms = rules.retry_after_ms(retry_after, datetime.now(timezone.utc), self.max_delay_ms)
        return ProviderBusy(detail, delay_ms) if delay_ms is not None else PushProviderUnavailable(detail)

    def close(self) -> None:
        fcm.close(self.app)


def _is_provider_trouble(error: BaseException) -> bool:
    if not isinstance(error, fcm.SDK_ERRORS):
        return False
    fcm_code, status, _ = fcm.failure_facts(error)
    return rules.classify_failure(fcm_code, status) == rules.RETRY


class PushSettings(Protocol):
    """The settings a push sender is built from (config.Settings has them; the root passes it)."""

    fcm_credentials_file: str | None
    fcm_project_id: str | None
    fcm_endpoint: str | None
    fcm_timeout_seconds: int
    fcm_http_retries: int
    push_breaker_fail_max: int
    push_breaker_reset_seconds: int
    retry_max_backoff_ms: int


def make_push_sender(settings: PushSettings):
    """FCM when a service-account file is configured; otherwise the logging outbox."""
    if not settings.fcm_credentials_file:
        return LoggingSender()
    app = fcm.make_fcm_app(settings.fcm_credentials_file, settings.fcm_project_id,
                           settings.fcm_timeout_seconds)
    fcm.point_messaging_at(app, settings.fcm_endpoint, fcm.sdk_retry(settings.fcm_http_retries))
    return FcmSender(app, fail_max=settings.push_breaker_fail_max,
                     reset_seconds=settings.push_breaker_reset_seconds,
                     max_delay_ms=settings.retry_max_backoff_ms)
