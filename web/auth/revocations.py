"""This edge process's list of recent token revocations, and the watch
that keeps it current (docs/decisions.md D60).

Every authenticated request and socket handshake asks `refuses(user,
generation)`: a dict lookup, no round trip, whether or not the token's
claims came from the verified-token cache. The list is fed by the control
channel (pipeline.control: heard by every edge process within a pub/sub
hop of the commit) and re-read from the database — the store — when the
subscriber (re)connects and every `RELOAD_SECONDS` as a safety net.

Only revocations younger than the longest-lived access token matter: an
older token has expired anyway, and a disabled user gets no new one.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone

from pipeline import control
from usecases.accounts.revocations import recent_revocations

log = logging.getLogger(__name__)

RELOAD_SECONDS = 60.0
# The longest-lived access tokens are the embedded demo's (a day).
MIN_HORIZON_SECONDS = 86400


class Revocations:
    """user id → token generation below which that user's tokens are void."""

    def __init__(self, horizon_seconds: float):
        self.horizon_seconds = horizon_seconds
        self._lock = threading.Lock()
        self._generations: dict[int, int] = {}
        self._reasons: dict[int, str] = {}
        self._noted_at: dict[int, float] = {}

    def generation(self, user_id: int) -> int | None:
        return self._generations.get(user_id)

    def refuses(self, user_id: int, token_generation: int) -> bool:
        return control.refuses(token_generation, self._generations.get(user_id))

    def disabled(self, user_id: int) -> bool:
        """Whether the user's latest revocation heard here switched the account off.
        API keys carry no generation: they ask this (an enable announces a newer one)."""
        return user_id in self._generations and self._reasons.get(user_id) == control.DISABLED

    def reason(self, user_id: int) -> str:
        """Why the user's tokens were last revoked (pipeline.control DISABLED or REVOKED)."""
        return self._reasons.get(user_id, control.REVOKED)

    def note(self, user_id: int, generation: int, reason: str = control.REVOKED) -> None:
        """Generations only rise: a late or repeated message changes nothing."""
        with self._lock:
            if generation > self._generations.get(user_id, -1):
                self._generations[user_id] = generation
                self._reasons[user_id] = reason
            elif generation == self._generations[user_id] and reason == control.DISABLED:
                self._reasons[user_id] = reason  # the database said "revoked" before the message said why
            self._noted_at[user_id] = time.monotonic()

    def replace(self, generations: dict[int, tuple[int, str]], read_since: float) -> None:
        """Take what the database says (it is the store), keeping what was
        heard since the read began (`read_since`, monotonic): a message that
        raced the query. Entries the database no longer lists — older than
        the horizon — go. Swapped whole: a reader never sees a half-built list."""
        now = time.monotonic()
        with self._lock:
            fresh = {u: (g, r) for u, (g, r) in generations.items()}
            for user_id, generation in self._generations.items():
                if self._noted_at.get(user_id, 0.0) >= read_since and generation >= fresh.get(user_id, (-1, ""))[0]:
                    fresh[user_id] = (generation, self._reasons.get(user_id, control.REVOKED))
            self._generations = {u: g for u, (g, _) in fresh.items()}
            self._reasons = {u: r for u, (_, r) in fresh.items()}
            self._noted_at = {u: now for u in fresh}


class RevocationWatch:
    """Hears revocations, closes the revoked user's sockets on this process,
    and re-reads the database when messages may have been missed."""

    def __init__(self, res):
        self._res = res
        self._reload = threading.Event()
        self._stopped = threading.Event()
        self._started = False
        self._lock = threading.Lock()

    def start(self) -> None:
        """Once per process: gunicorn's post_worker_init, the embedded launcher."""
        with self._lock:
            if self._started:
                return
            self._started = True
        try:
            self.reload()  # before the first request: what was revoked before this process started
        except Exception as e:  # the database is away: the watch thread retries; the process still starts
            log.warning("reading token revocations at start failed: %r", e)
        threading.Thread(target=self._run, name="herald-revocations", daemon=True).start()
        self._res.ports.realtime.listen_control(self.on_control)

    def reload(self) -> None:
        revocations, read_since = self._res.revocations, time.monotonic()
        since = datetime.now(timezone.utc) - timedelta(seconds=revocations.horizon_seconds)
        revocations.replace(recent_revocations(self._res.ports, since), read_since)

    def on_control(self, text: str) -> None:
        if text == control.RELOAD:
            self._reload.set()  # on our own thread: the subscriber does not wait for the database
            return
        revocation = control.unpack(text)
        if revocation is None:
            return
        # Noted before the sockets close: a socket attaching meanwhile checks the list after attaching.
        self._res.revocations.note(revocation.user_id, revocation.generation, revocation.reason)
        self._res.hub.close_user(revocation.user_id, *control.CLOSE_CODES[revocation.reason])

    def stop(self) -> None:
        """End the re-reading thread (tests: an app left behind must not
        query a database another test is counting statements on)."""
        self._stopped.set()
        self._reload.set()

    def _run(self) -> None:
        while True:
            self._reload.wait(RELOAD_SECONDS)
            self._reload.clear()
            if self._stopped.is_set():
                return
            try:
                self.reload()
            except Exception as e:
                log.warning("re-reading token revocations failed: %r", e)
