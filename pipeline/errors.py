"""One error tree for the edge and the workers.

HeraldError → TransientError (retry later) | PermanentError (never retry).
Each leaf names its condition and carries a stable `code` and the HTTP
status the edge answers with; the edge turns any of them into
problem-details JSON in one handler.
"""

from __future__ import annotations


class HeraldError(Exception):
    code = "internal_error"
    status = 500
    title = "Internal error"

    def __init__(self, detail: str | None = None, **extra):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class TransientError(HeraldError):
    code = "temporarily_unavailable"
    status = 503
    title = "Temporarily unavailable"


class PermanentError(HeraldError):
    code = "permanent_error"
    status = 400
    title = "Request cannot be processed"


class BadRequest(PermanentError):
    code = "bad_request"
    status = 400
    title = "Bad request"


class ValidationFailed(PermanentError):
    code = "validation_failed"
    status = 422
    title = "Validation failed"


class InvalidPhoneNumber(ValidationFailed):
    code = "invalid_phone_number"
    title = "Invalid phone number"


class Unauthenticated(PermanentError):
    code = "unauthenticated"
    status = 401
    title = "Authentication required"


class InvalidToken(Unauthenticated):
    code = "invalid_token"
    title = "Invalid or expired token"


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    title = "Invalid credentials"


class InvalidOtp(Unauthenticated):
    code = "invalid_otp"
    title = "Invalid or expired code"


class Forbidden(PermanentError):
    code = "forbidden"
    status = 403
    title = "Forbidden"


class OriginNotAllowed(Forbidden):
    code = "origin_not_allowed"
    title = "Origin not allowed"


class ReplyNotAllowed(Forbidden):
    code = "reply_not_allowed"
    title = "One-way messages cannot be replied to"


class NotFound(PermanentError):
    code = "not_found"
    status = 404
    title = "Not found"


class MessageNotFound(NotFound):
    code = "message_not_found"
    title = "Message not found"


class RecipientNotFound(ValidationFailed):
    code = "recipient_not_found"
    title = "Recipient not found"


class MethodNotAllowed(PermanentError):
    code = "method_not_allowed"
    status = 405
    title = "Method not allowed"


class Conflict(PermanentError):
    code = "conflict"
    status = 409
    title = "Conflict"


class ApiKeyLimitReached(Conflict):
    code = "api_key_limit_reached"
    title = "Too many API keys in use"


class DeadLetterResolved(Conflict):
    code = "dead_letter_resolved"
    title = "The dead letter was already requeued or discarded"


class IdempotencyKeyReused(PermanentError):
    code = "idempotency_key_reused"
    status = 422
    title = "Idempotency-Key was used with a different request"


class IdempotencyKeyInFlight(Conflict):
    code = "idempotency_key_in_flight"
    title = "A request with this Idempotency-Key is still being processed"


class PayloadTooLarge(PermanentError):
    code = "payload_too_large"
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(PermanentError):
    code = "unsupported_media_type"
    status = 415
    title = "Unsupported media type"


class RateLimited(PermanentError):
    code = "rate_limited"
    status = 429
    title = "Too many requests"


class TooManyAttempts(RateLimited):
    code = "too_many_attempts"
    title = "Too many attempts"


class Overloaded(TransientError):
    code = "overloaded"
    title = "Too much work queued; retry later"


class EdgeOverloaded(Overloaded):
    """This process, not the delivery queues, is the bottleneck: no database
    connection came free within the pool's short wait (DB_POOL_TIMEOUT_SECONDS,
    D89), or no slot among its concurrent writing requests did (D90). Raised
    before the unit of work's first statement, so nothing was written;
    shedding at once beats letting requests queue until their clients time out."""

    code = "edge_overloaded"
    title = "The server is too busy; retry later"

    # What ran out, for the metrics' bounded `reason` label: "db_pool" (no
    # connection within the pool's wait) or "in_flight" (no slot among the
    # process's concurrent writing requests, D90).
    def __init__(self, detail: str | None = None, reason: str = "db_pool", **extra):
        super().__init__(detail, **extra)
        self.reason = reason


class DependencyUnavailable(TransientError):
    code = "dependency_unavailable"
    title = "A dependency is unavailable"


class PushProviderUnavailable(TransientError):
    """The push provider was unreachable, overloaded or over quota: retry later."""

    code = "push_provider_unavailable"
    title = "The push provider is unavailable"


class PushCircuitOpen(PushProviderUnavailable):
    """Recent calls failed, so the breaker refuses to call the provider for a while."""

    code = "push_circuit_open"
    title = "Push provider circuit is open"


class PushTokenUnregistered(PermanentError):
    """The provider says the device token is dead: prune it, never retry."""

    code = "push_token_unregistered"
    title = "Device token is no longer registered"


class PushRejected(PermanentError):
    """The provider refused the notification itself (e.g. an invalid argument)."""

    code = "push_rejected"
    title = "The push provider rejected the notification"


class ConversationClosed(Conflict):
    code = "conversation_closed"
    title = "The conversation is closed"


class CannotMessage(Forbidden):
    # Deliberately vague: it must not reveal that the other user blocked the caller.
    code = "cannot_message"
    title = "You cannot message this user"


class EditWindowPassed(Conflict):
    code = "edit_window_passed"
    title = "The message can no longer be edited"


class MessageDeleted(Conflict):
    code = "message_deleted"
    title = "The message was deleted"


class MessageReadOnly(Forbidden):
    code = "message_read_only"
    title = "One-way messages cannot be changed"


class NotSender(Forbidden):
    code = "not_sender"
    title = "Only the sender may change this message"


class UserBlocked(Forbidden):
    # Said only to the blocker, who knows: their app can offer "unblock".
    code = "user_blocked"
    title = "You blocked this user; unblock them to message them"


class InvalidEmoji(ValidationFailed):
    code = "invalid_emoji"
    title = "Not a reaction emoji"


class UserNotFound(ValidationFailed):
    code = "user_not_found"
    title = "User not found"


class NotAGroup(Conflict):
    code = "not_a_group"
    title = "Direct conversations have no membership changes"


class GroupFull(ValidationFailed):
    code = "group_full"
    title = "The group has reached its member limit"


class LastOwner(Conflict):
    code = "last_owner"
    title = "A group keeps at least one owner"


class AccountDisabled(Forbidden):
    """An admin switched the account off: it signs in, refreshes and connects no more."""

    code = "account_disabled"
    title = "The account is disabled"


class LastAdmin(Conflict):
    code = "last_admin"
    title = "Herald keeps at least one enabled admin"
