"""Stopping and starting the real local services, with the exact commands
of scripts/ensure-services.sh, and waiting until each answers again.

Every `restart_*` brings its service back in its `finally`
(other tests run after ours), and `ensure_all_up` is the last resort the
faults conftest calls after every scenario.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time

REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
               "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
               "--logfile", "/var/log/redis/ci.log"]
WAIT_SECONDS = 60


def _as_root(argv: list[str]) -> list[str]:
    return argv if os.geteuid() == 0 else ["sudo", "-n", *argv]


def _run(argv: list[str], timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(_as_root(argv), capture_output=True, text=True, timeout=timeout, check=check)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _wait(check, what: str, timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not answer within {timeout}s")


# --- Redis -------------------------------------------------------------------

def redis_answers() -> bool:
    try:
        return _run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"], timeout=5,
                    check=False).stdout.strip() == "PONG"
    except subprocess.TimeoutExpired:
        return False


def stop_redis() -> None:
    _run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], timeout=10, check=False)
    _wait(lambda: not port_open(6379), "redis shutdown")


def start_redis() -> None:
    if not redis_answers():
        _run(["mkdir", "-p", "/var/lib/redis", "/var/log/redis"])
        _run(REDIS_START, check=False)
    _wait(redis_answers, "redis")


def restart_redis(down_seconds: float) -> None:
    """`redis-cli shutdown nosave`, down for `down_seconds`, started again."""
    try:
        stop_redis()
        time.sleep(down_seconds)
    finally:
        start_redis()


# --- RabbitMQ ----------------------------------------------------------------

def rabbitmq_answers() -> bool:
    if not port_open(5672):
        return False
    try:
        return _run(["rabbitmqctl", "-q", "await_startup", "--timeout", "5"], timeout=15, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def stop_rabbitmq_app() -> None:
    _run(["rabbitmqctl", "-q", "stop_app"], timeout=60)


def start_rabbitmq() -> None:
    if rabbitmq_answers():
        return
    started = _run(["rabbitmqctl", "-q", "start_app"], timeout=90, check=False)
    if started.returncode != 0:  # the node itself is down, not only the app
        _run(["rabbitmq-server", "-detached"], check=False)
    _run(["rabbitmqctl", "-q", "await_startup", "--timeout", str(WAIT_SECONDS)], timeout=WAIT_SECONDS + 5,
         check=False)
    _wait(rabbitmq_answers, "rabbitmq")


def restart_rabbitmq(down_seconds: float) -> None:
    """`rabbitmqctl stop_app`, down for `down_seconds`, `start_app`."""
    try:
        stop_rabbitmq_app()
        time.sleep(down_seconds)
    finally:
        start_rabbitmq()


# --- PostgreSQL --------------------------------------------------------------

def postgres_version() -> str:
    return sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".") if p.isdigit()])[-1]


def postgres_answers() -> bool:
    return _run(["pg_isready", "-h", "127.0.0.1", "-p", "5432"], timeout=10, check=False).returncode == 0


def _pg_ctl(action: str) -> subprocess.CompletedProcess:
    return _run(["pg_ctlcluster", "--skip-systemctl-redirect", postgres_version(), "main", action],
                timeout=90, check=False)


def stop_postgres() -> None:
    _pg_ctl("stop")
    _wait(lambda: not port_open(5432), "postgresql shutdown")


def start_postgres() -> None:
    if not postgres_answers():
        _pg_ctl("start")
    _wait(postgres_answers, "postgresql")


def restart_postgres(down_seconds: float) -> None:
    """`pg_ctlcluster … restart`, held down for `down_seconds` so requests
    arriving meanwhile meet a database that is really gone."""
    try:
        stop_postgres()
        time.sleep(down_seconds)
    finally:
        start_postgres()


def ensure_all_up() -> None:
    """Bring back whatever a scenario left down, and wait until it answers."""
    errors = []
    for start in (start_postgres, start_redis, start_rabbitmq):
        try:
            start()
        except Exception as e:  # try the others anyway
            errors.append(f"{start.__name__}: {e!r}")
    if errors:
        raise AssertionError("services not restored: " + "; ".join(errors))
