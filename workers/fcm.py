"""The firebase-admin adapter: an app from a service-account file, its
messaging service pointed at an endpoint with our retry budget, our
payloads as SDK messages, and SDK errors as plain facts for `pipeline.push`.

The only module that knows firebase-admin's internals; see
`point_messaging_at` for the one private attribute we touch and why.
"""

from __future__ import annotations

import uuid

import firebase_admin
import requests.adapters
from firebase_admin import credentials, exceptions, messaging
from google.auth.exceptions import GoogleAuthError
from urllib3.util.retry import Retry

from pipeline.push import PushPayload

GOOGLE_FCM = "https://fcm.googleapis.com"
# The pool firebase-admin itself mounts for FCM (messaging._MessagingService).
POOL_SIZE = 100

# FcmError detail codes by the SDK's exception type (messaging.FCM_ERROR_TYPES).
_FCM_CODES = {
    messaging.UnregisteredError: "UNREGISTERED",
    messaging.SenderIdMismatchError: "SENDER_ID_MISMATCH",
    messaging.QuotaExceededError: "QUOTA_EXCEEDED",
    messaging.ThirdPartyAuthError: "THIRD_PARTY_AUTH_ERROR",
}
SDK_ERRORS = (exceptions.FirebaseError, GoogleAuthError)


def make_fcm_app(credentials_file: str, project_id: str | None, timeout_seconds: int) -> firebase_admin.App:
    """A firebase-admin app of its own (a unique name), from a service-account JSON file.

    The file's `token_uri` is where OAuth2 access tokens come from (a fake
    one in tests); `httpTimeout` bounds every FCM call (the SDK's default
    is 120 s, far too long to hold a worker thread).
    """
    options = {"httpTimeout": timeout_seconds}
    if project_id:
        options["projectId"] = project_id
    return firebase_admin.initialize_app(credentials.Certificate(credentials_file), options,
                                         name=f"herald-{uuid.uuid4().hex[:8]}")


def sdk_retry(http_retries: int) -> Retry:
    """The SDK layer's retry budget (urllib3), replacing firebase-admin's default
    of 4 status retries on 500/503 plus 1 connect and 1 read retry.

    `read=0`: a POST whose answer was lost may already have notified the
    device; retrying it at once is how a phone buzzes twice. Retry-After is
    not slept on here (urllib3 would block the thread for as long as the
    server asks): Dramatiq's delayed retry honours it instead.
    """
    return Retry(total=http_retries, connect=http_retries, read=0, status=http_retries, other=0,
                 status_forcelist=(500, 503), allowed_methods=None, backoff_factor=0.5,
                 raise_on_status=False, respect_retry_after_header=False)


def point_messaging_at(app: firebase_admin.App, endpoint: str | None, retry: Retry) -> None:
    """Use `endpoint` (tests: the local fake FCM) and `retry` for the app's FCM calls.

    firebase-admin has no public option for the FCM URL (it is formatted
    from `_MessagingService.FCM_URL` into the private `_fcm_url` at
    construction) nor for its retries (a private `_client`'s session).
    Maintainers answered such requests with "wrap the SDK"
    (firebase-admin-dotnet #158, -java #374). So this function is the one
    place that touches the private attributes, and fails loudly if an SDK
    upgrade moves them; tests/integration/test_push.py proves it is used.
    """
    service = messaging._get_messaging_service(app)
    if not hasattr(service, "_fcm_url") or not hasattr(service, "_client"):
        raise RuntimeError("firebase-admin's messaging service changed: update workers/fcm.py")
    adapter = requests.adapters.HTTPAdapter(pool_connections=POOL_SIZE, pool_maxsize=POOL_SIZE,
                                            max_retries=retry)
    service._client.session.mount(GOOGLE_FCM, adapter)
    if endpoint:
        base = endpoint.rstrip("/")
        service._fcm_url = f"{base}/v1/projects/{app.project_id}/messages:send"
        service._client.session.mount(base, adapter)


def to_fcm_message(payload: PushPayload) -> messaging.Message:
    """Our payload as an FCM v1 message; each platform gets its own urgency header."""
    return messaging.Message(
        token=payload.token,
        notification=messaging.Notification(title=payload.title, body=payload.body),
        data=dict(payload.data),
        android=messaging.AndroidConfig(priority=payload.android_priority),
        apns=messaging.APNSConfig(headers={"apns-priority": payload.apns_priority}),
        webpush=messaging.WebpushConfig(headers={"Urgency": payload.webpush_urgency}),
    )


def failure_facts(error: Exception) -> tuple[str | None, int | None, str | None]:
    """(FcmError code, HTTP status, Retry-After header) of an SDK error.

    A failed token refresh (GoogleAuthError) and a network error have no
    HTTP answer: status None.
    """
    response = getattr(error, "http_response", None)
    if response is None:
        return _FCM_CODES.get(type(error)), None, None
    return _FCM_CODES.get(type(error)), response.status_code, response.headers.get("Retry-After")


def send(app: firebase_admin.App, message: messaging.Message) -> str:
    """Send through the SDK; the provider's message name."""
    return messaging.send(message, app=app)


def close(app: firebase_admin.App) -> None:
    firebase_admin.delete_app(app)
