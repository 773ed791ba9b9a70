"""A local FCM for tests: enough of the HTTP v1 protocol for the real
firebase-admin client — the OAuth2 token endpoint a service account's
`token_uri` names, and `POST /v1/projects/{project}/messages:send` with
FCM's success and error bodies. Scriptable per test, records every request.
"""

from __future__ import annotations

import json
import functools
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# google-auth signs every grant for Google's token endpoint, whatever token_uri says.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
SEND_PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/messages:send$")
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"

# kind → (HTTP status, google.rpc status, FcmError errorCode)
FAILURES = {
    "unregistered": (404, "NOT_FOUND", "UNREGISTERED"),
    "sender_id_mismatch": (403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"),
    "quota": (429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"),
    "unavailable": (503, "UNAVAILABLE", "UNAVAILABLE"),
    "internal": (500, "INTERNAL", "INTERNAL"),
    "invalid": (400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
}


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict  # names in lower case
    body: object
    status: int = 0


@dataclass
class Failure:
    kind: str
    retry_after: str | None = None


@dataclass
class Script:
    """What the fake answers; tests change it while it runs."""

    failures: deque = field(default_factory=deque)  # consumed one per send
    dead_tokens: set = field(default_factory=set)
    delay_seconds: float = 0.0


class FakeFcm:
    def __init__(self, project_id: str = "herald-test"):
        self.project_id = project_id
        self.script = Script()
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._tokens_issued: set[str] = set()
        self._key = _service_account_key()
        self._message_ids = iter(range(1, 10**9))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.token_uri = f"{self.base_url}/token"

    # --- lifecycle -------------------------------------------------------

    def start(self) -> "FakeFcm":
        threading.Thread(target=self._server.serve_forever, name="fake-fcm", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- scripting -------------------------------------------------------

    def fail_next(self, count: int, kind: str = "unavailable", retry_after: str | None = None) -> None:
        """The next `count` sends fail with `kind` (see FAILURES), then sends succeed again."""
        assert kind in FAILURES, kind
        self.script.failures.extend(Failure(kind, retry_after) for _ in range(count))

    def unregister(self, token: str) -> None:
        """Every later send to `token` answers 404 UNREGISTERED."""
        self.script.dead_tokens.add(token)

    def service_account(self, folder: Path) -> Path:
        """A service-account JSON file whose key is ours and whose token_uri is this fake."""
        pem = self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()
        info = {"type": "service_account", "project_id": self.project_id, "private_key_id": "fake-key-1",
                "private_key": pem, "client_email": f"herald@{self.project_id}.iam.gserviceaccount.com",
                "client_id": "1", "token_uri": self.token_uri}
        path = Path(folder) / "fcm-service-account.json"
        path.write_text(json.dumps(info))
        return path

    # --- what happened ---------------------------------------------------

    @property
    def sends(self) -> list[Recorded]:
        """Every send request, answered or not."""
        with self._lock:
            return [r for r in self.requests if SEND_PATH.match(r.path)]

    @property
    def delivered(self) -> list[dict]:
        """The messages FCM accepted (200), in order."""
        return [r.body["message"] for r in self.sends if r.status == 200]

    def delivered_to(self, token: str) -> list[dict]:
        return [m for m in self.delivered if m.get("token") == token]

    def wait_for_sends(self, count: int, timeout: float = 15.0) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sends = self.sends
            if len(sends) >= count and all(r.status for r in sends):
                return sends
            time.sleep(0.05)
        raise AssertionError(f"wanted {count} sends, the fake saw {len(self.sends)}")

    # --- answering (called from the handler's threads) -------------------

    def _record(self, record: Recorded) -> None:
        with self._lock:
            self.requests.append(record)

    def _issue_token(self, form: dict) -> tuple[int, dict, dict]:
        assertion = (form.get("assertion") or [""])[0]
        try:
            jwt.decode(assertion, self._key.public_key(), algorithms=["RS256"], audience=GOOGLE_TOKEN_AUDIENCE)
        except jwt.PyJWTError as e:
            return 400, {"error": "invalid_grant", "error_description": str(e)}, {}
        token = f"fake-access-{next(self._message_ids)}"
        with self._lock:
            self._tokens_issued.add(token)
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}, {}

    def _send(self, project: str, authorization: str, body: dict) -> tuple[int, dict, dict]:
        if self.script.delay_seconds:
            time.sleep(self.script.delay_seconds)
        with self._lock:
            authorized = authorization.removeprefix("Bearer ") in self._tokens_issued
        if not authorized:
            return _google_error(401, "UNAUTHENTICATED", None, "Request had invalid authentication credentials.")
        if project != self.project_id:
            return _google_error(404, "NOT_FOUND", None, f"Project {project} not found.")
        token = (body.get("message") or {}).get("token")
        failure = self._next_failure()
        if failure is None and token in self.script.dead_tokens:
            failure = Failure("unregistered")
        if failure is not None:
            status, rpc_status, code = FAILURES[failure.kind]
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            return (*_google_error(status, rpc_status, code, f"fake {failure.kind}")[:2], headers)
        return 200, {"name": f"projects/{project}/messages/{next(self._message_ids)}"}, {}

    def _next_failure(self) -> Failure | None:
        with self._lock:
            return self.script.failures.popleft() if self.script.failures else None


@functools.cache
def _service_account_key() -> rsa.RSAPrivateKey:
    """One RSA key per test process: generating one takes a good part of a second."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _google_error(status: int, rpc_status: str, fcm_code: str | None, message: str) -> tuple[int, dict, dict]:
    error = {"code": status, "message": message, "status": rpc_status}
    if fcm_code:
        error["details"] = [{"@type": FCM_ERROR_TYPE, "errorCode": fcm_code}]
    return status, {"error": error}, {}


def _handler_for(fake: FakeFcm):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            record = Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, None)
            fake._record(record)
            if self.path == "/token":
                record.body = parse_qs(raw.decode())
                status, body, headers = fake._issue_token(record.body)
            elif match := SEND_PATH.match(self.path):
                record.body = json.loads(raw or b"{}")
                status, body, headers = fake._send(match["project"], self.headers.get("Authorization", ""),
                                                   record.body)
            else:
                status, body, headers = _google_error(404, "NOT_FOUND", None, "no such path")
            record.status = status
            self._answer(status, body, headers)

        def _answer(self, status: int, body: dict, headers: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler
