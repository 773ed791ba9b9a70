"""The webhook client: requests with a timeout, redirects not followed, the
connection pinned to the address the dispatcher checked, and a pybreaker
circuit breaker per endpoint.

Pinning: the URL's host is replaced by the checked address and the name is
kept for the Host header, TLS SNI and certificate verification (urllib3's
`server_hostname` / `assert_hostname`), so DNS is never asked again between
the check and the connection.

Success is a 2xx within the timeout; a redirect is an answer like any
other non-2xx (following it would let a receiver point us anywhere). The
breaker is entered with `calling()`, not `call()`: pybreaker holds its lock
across `call` (pybreaker #55), and one slow receiver must not serialize the
pool's threads (D15). While an endpoint's breaker is open its events are
not sent; the dispatcher records that as a failed attempt and backs off.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pybreaker
import requests
from requests.adapters import HTTPAdapter

from usecases.ports import WebhookAnswer

BREAKER_FAIL_MAX = 5
BREAKER_RESET_SECONDS = 60


class ReceiverFailed(Exception):
    """A non-2xx answer or no answer: what the breaker counts."""


class RequestsWebhookClient:
    def __init__(self, fail_max: int = BREAKER_FAIL_MAX, reset_seconds: float = BREAKER_RESET_SECONDS,
                 verify: bool | str = True):
        self.fail_max, self.reset_seconds = fail_max, reset_seconds
        self.verify = verify  # a CA bundle path in tests; the system's CAs otherwise
        self._breakers: dict[int, pybreaker.CircuitBreaker] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def resolve(self, host: str) -> list[str]:
        try:
            return sorted({info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})
        except (socket.gaierror, UnicodeError):
            return []

    def post(self, endpoint_id: int, url: str, address: str, body: bytes, headers: dict[str, str],
             timeout: float) -> WebhookAnswer:
        started = time.monotonic()
        status, error = None, None
        try:
            with self._breaker(endpoint_id).calling():
                status, error = self._post(url, address, body, headers, timeout)
                if error is not None:
                    raise ReceiverFailed(error)
        except pybreaker.CircuitBreakerError:
            error = "not sent: the endpoint's circuit breaker is open after repeated failures"
        except ReceiverFailed:
            pass
        return WebhookAnswer(status, error, int((time.monotonic() - started) * 1000))

    def _post(self, url: str, address: str, body: bytes, headers: dict[str, str],
              timeout: float) -> tuple[int | None, str | None]:
        parts = urlsplit(url)
        session = self._session(parts.scheme, parts.hostname, address)
        pinned, host = pinned_url(url, address)
        try:
            # (connect, read) timeouts; the whole answer must come within `timeout`.
            with session.post(pinned, data=body, headers={**headers, "Host": host},
                              timeout=(min(timeout, 5.0), timeout),
                              allow_redirects=False, stream=True) as response:
                deadline = time.monotonic() + timeout
                for _ in response.iter_content(8192):  # read (and drop) the body, within the deadline
                    if time.monotonic() > deadline:
                        return response.status_code, f"no complete answer within {timeout:g} s"
                if 200 <= response.status_code < 300:
                    return response.status_code, None
                return response.status_code, f"answered {response.status_code}"
        except requests.Timeout:
            return None, f"no answer within {timeout:g} s"
        except requests.RequestException as e:
            return None, f"{type(e).__name__}: {e}"[:300]

    def _session(self, scheme: str, hostname: str, address: str) -> requests.Session:
        # Pooled sessions per thread (requests.Session is not thread-safe),
        # one per pinned (scheme, name, address): connections are reused.
        sessions = getattr(self._local, "sessions", None)
        if sessions is None or len(sessions) > 256:
            sessions = self._local.sessions = {}
        key = (scheme, hostname, address)
        session = sessions.get(key)
        if session is None:
            session = sessions[key] = requests.Session()
            session.trust_env = False  # no proxies from the environment
            session.verify = self.verify
            if scheme == "https":
                session.mount("https://", PinnedTlsAdapter(hostname))
        return session

    def _breaker(self, endpoint_id: int) -> pybreaker.CircuitBreaker:
        with self._lock:
            breaker = self._breakers.get(endpoint_id)
            if breaker is None:
                breaker = self._breakers[endpoint_id] = pybreaker.CircuitBreaker(
                    fail_max=self.fail_max, reset_timeout=self.reset_seconds, name=f"webhook-{endpoint_id}",
                    exclude=[lambda error: not isinstance(error, ReceiverFailed)],
                    throw_new_error_on_trip=False)
            return breaker


class PinnedTlsAdapter(HTTPAdapter):
    """TLS to an address, with SNI and certificate checks for the name."""

    def __init__(self, hostname: str):
        self.hostname = hostname
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs.update(server_hostname=self.hostname, assert_hostname=self.hostname)
        super().init_poolmanager(*args, **kwargs)


def pinned_url(url: str, address: str) -> tuple[str, str]:
    """(`url` with its host replaced by `address`, the Host header value)."""
    parts = urlsplit(url)
    literal = f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
    port = f":{parts.port}" if parts.port else ""
    host = (f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname) + port
    return urlunsplit((parts.scheme, literal + port, parts.path or "/", parts.query, "")), host
