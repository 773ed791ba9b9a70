"""One settings object read from the environment (12-factor).

With nothing set, Herald runs embedded: SQLite, an in-process broker and
pub/sub, a local data folder. Composition roots call `load_settings()`;
everything else receives plain values.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Mapping


MAX_GROUP_MEMBERS = 10_000


class ConfigError(Exception):
    """A setting is missing or wrong; the message says what to set."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
def _int_within(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = _int(env, name, default)
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:,} and {high:,}, not {value:,}")
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str | None
    redis_url: str | None
    redis_namespace: str
    host: str
    port: int
    # JWT_SECRET as given (None: unset); read `jwt_secret`, which needs it
    # only when asked, so commands that sign nothing (`herald db upgrade`,
    # `herald dlq`, the workers) run without one.
    jwt_secret_env: str | None
    jwt_algorithm: str
    jwt_private_key: str | None
    jwt_public_key: str | None
    jwt_issuer: str
    jwt_audience: str
    access_token_ttl_seconds: int
    refresh_token_ttl_seconds: int
    otp_ttl_seconds: int
    otp_max_attempts: int
    sms_sender: str
    delivery_partitions: int
    ws_allowed_origins: tuple[str, ...]
    ws_max_frame_bytes: int
    ws_ping_seconds: int
    ws_ticket_ttl_seconds: int
    ws_send_queue_limit: int
    outbox_sweep_after_seconds: int
    outbox_sweep_interval_seconds: int
    max_recipients: int
    backpressure_depth: int
    backpressure_hard_depth: int
    group_member_limit: int
    edit_window_seconds: int
    typing_ttl_seconds: int
    retry_max: int
    retry_min_backoff_ms: int
    retry_max_backoff_ms: int
    max_body_chars: int
    rate_limits_enabled: bool
    admin_cookie_secure: bool
    demo: bool
    # Push notifications. Without FCM_CREDENTIALS_FILE pushes are only
    # written to the `pushes` table with status `logged` (embedded mode).
    push_enabled: bool = True
    fcm_credentials_file: str | None = None
    fcm_project_id: str | None = None
    fcm_endpoint: str | None = None  # tests only: a local fake FCM
    fcm_timeout_seconds: int = 10
    fcm_http_retries: int = 1
    push_breaker_fail_max: int = 5
    push_breaker_reset_seconds: int = 30
    # Logs and traces (docs/operations.md): LOG_FORMAT auto is text only for
    # embedded mode at an interactive terminal; traces only with an OTLP endpoint.
    log_format: str = "auto"
    log_level: str = "INFO"
    otel_endpoint: str | None = None
    otel_headers: dict = field(default_factory=dict)
    otel_service_name: str | None = None
    # Metrics (docs/operations.md#metrics). PROMETHEUS_MULTIPROC_DIR: where
    # the processes of one gunicorn or dramatiq share their values (the
    # client library reads it too); METRICS_TOKEN: a bearer token /metrics
    # asks for (unset: open); WORKER_METRICS_PORT: a worker pool's
    # exposition port (0: none).
    metrics_dir: str | None = None
    metrics_token: str | None = None
    worker_metrics_port: int = 0
    # Numbers written without "+<country code>" are read as this region's
    # (ISO 3166 code, e.g. TH); None: every number must be international.
    default_phone_region: str | None = None
    # Webhooks (D80–D84): https only in full mode unless allowed; never
    # private addresses unless allowed (tests); the retry schedule.
    webhook_allow_http: bool = False
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = 10.0
    webhook_first_delay_seconds: float = 30.0
    webhook_max_delay_seconds: float = 3600.0
    webhook_window_seconds: float = 24 * 3600.0
    webhook_stall_seconds: int = 60
    # The edge's database pool (D89): DB_POOL_SIZE connections plus as many
    # overflow ones; a request waits at most DB_POOL_TIMEOUT_SECONDS for one,
    # then is refused with 503 edge_overloaded. Workers keep SQLAlchemy's 30 s.
    db_pool_size: int = 10
    db_pool_timeout_seconds: float = 3.0
    # At most EDGE_MAX_CONCURRENT_POSTS POSTs run at once in one edge process
    # (0: no cap); the rest wait EDGE_POST_WAIT_SECONDS for a slot, then 503 (D90).
    edge_max_concurrent_posts: int = 20
    edge_post_wait_seconds: float = 1.0
    extra: dict = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        """True when no external broker is configured (the in-process mode)."""
        return self.broker_url is None

    @cached_property
    def jwt_secret(self) -> str:
        """The HS256 secret (also the pepper of OTP codes and the admin session key).

        Raises:
            ConfigError: full mode without JWT_SECRET.
        """
        if self.jwt_secret_env:
            return self.jwt_secret_env
        if not self.embedded:
            raise ConfigError("JWT_SECRET must be set when BROKER_URL is set (full mode): "
                              "export JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')")
        # Embedded mode keeps its secret beside its data so printed demo
        # tokens survive a restart of `make run`.
        path = self.data_dir / "jwt-secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def _read_key(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value and not value.lstrip().startswith("-----") and Path(value).is_file():
        return Path(value).read_text()
    return value or None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read every setting from `environ` (default: the process environment)."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("HERALD_DATA_DIR", ".herald")).resolve()
    broker_url = env.get("BROKER_URL") or None
    embedded = broker_url is None
    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'herald.db'}"
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        broker_url=broker_url,
        # The admin pages' session cookie is HTTPS-only unless turned off
        # (embedded mode and local plain-HTTP stacks).
        admin_cookie_secure=env.get("ADMIN_COOKIE_SECURE", "off" if embedded else "on") == "on",
        demo=env.get("HERALD_DEMO", "on" if embedded else "off") == "on",
        **_connections(env), **_auth(env), **_delivery(env), **_chat_and_sockets(env), **_push(env),
        **_telemetry(env),
        **_metrics(env),
        **_webhooks(env, embedded),
    )


def _connections(env: Mapping[str, str]) -> dict:
    """Where Redis is, where the edge listens, the edge's database pool."""
    return {
        "redis_url": env.get("REDIS_URL") or None,
        "redis_namespace": env.get("REDIS_NAMESPACE", "herald"),
        "host": env.get("HOST", "127.0.0.1"),
        "port": _int(env, "PORT", 8080),
        "db_pool_size": _int(env, "DB_POOL_SIZE", 10),
        "db_pool_timeout_seconds": _float(env, "DB_POOL_TIMEOUT_SECONDS", 3.0),
        "edge_max_concurrent_posts": _int(env, "EDGE_MAX_CONCURRENT_POSTS", 20),
        "edge_post_wait_seconds": _float(env, "EDGE_POST_WAIT_SECONDS", 1.0),
    }


def _auth(env: Mapping[str, str]) -> dict:
    """Tokens, sign-in codes and the SMS sender."""
    return {
        "jwt_secret_env": env.get("JWT_SECRET") or None,
        "jwt_algorithm": env.get("JWT_ALGORITHM", "HS256"),
        "jwt_private_key": _read_key(env, "JWT_PRIVATE_KEY"),
        "jwt_public_key": _read_key(env, "JWT_PUBLIC_KEY"),
        "jwt_issuer": env.get("JWT_ISSUER", "herald"),
        "jwt_audience": env.get("JWT_AUDIENCE", "herald-api"),
        "access_token_ttl_seconds": _int(env, "ACCESS_TOKEN_TTL_SECONDS", 3600),
        "refresh_token_ttl_seconds": _int(env, "REFRESH_TOKEN_TTL_SECONDS", 30 * 86400),
        "otp_ttl_seconds": _int(env, "OTP_TTL_SECONDS", 300),
        "otp_max_attempts": _int(env, "OTP_MAX_ATTEMPTS", 5),
        "sms_sender": env.get("SMS_SENDER", "log"),
        "default_phone_region": _phone_region(env),
    }


def _phone_region(env: Mapping[str, str]) -> str | None:
    import phonenumbers

    raw = env.get("DEFAULT_PHONE_REGION", "").strip().upper()
    if raw and raw not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"DEFAULT_PHONE_REGION must be a region code such as TH or SG, not {raw!r}")
    return raw or None


def _delivery(env: Mapping[str, str]) -> dict:
    """Partitions, the outbox, limits, backpressure and retries."""
    return {
        "delivery_partitions": _int(env, "DELIVERY_PARTITIONS", 4),
        "outbox_sweep_after_seconds": _int(env, "OUTBOX_SWEEP_AFTER_SECONDS", 5),
        "outbox_sweep_interval_seconds": _int(env, "OUTBOX_SWEEP_INTERVAL_SECONDS", 2),
        "max_recipients": _int(env, "MAX_RECIPIENTS", 100),
        "backpressure_depth": _int(env, "BACKPRESSURE_DEPTH", 10_000),
        "backpressure_hard_depth": _int(env, "BACKPRESSURE_HARD_DEPTH", 100_000),
        "retry_max": _int(env, "RETRY_MAX", 6),
        "retry_min_backoff_ms": _int(env, "RETRY_MIN_BACKOFF_MS", 1_000),
        "retry_max_backoff_ms": _int(env, "RETRY_MAX_BACKOFF_MS", 60_000),
        "max_body_chars": _int(env, "MAX_BODY_CHARS", 10_000),
    }


def _chat_and_sockets(env: Mapping[str, str]) -> dict:
    """WebSockets, chat limits and rate limiting."""
    return {
        "ws_allowed_origins": _list(env, "WS_ALLOWED_ORIGINS"),
        "ws_max_frame_bytes": _int(env, "WS_MAX_FRAME_BYTES", 64 * 1024),
        "ws_ping_seconds": _int(env, "WS_PING_SECONDS", 25),
        "ws_ticket_ttl_seconds": _int(env, "WS_TICKET_TTL_SECONDS", 30),
        "ws_send_queue_limit": _int(env, "WS_SEND_QUEUE_LIMIT", 1000),
        # Up to the largest group measured (docs/performance.md, "Large groups").
        "group_member_limit": _int_within(env, "GROUP_MEMBER_LIMIT", 256, 2, MAX_GROUP_MEMBERS),
        "edit_window_seconds": _int(env, "EDIT_WINDOW_SECONDS", 900),
        "typing_ttl_seconds": _int(env, "TYPING_TTL_SECONDS", 5),
        "rate_limits_enabled": env.get("RATE_LIMITS", "on") != "off",
    }


def _metrics(env: Mapping[str, str]) -> dict:
    """Where metrics are shared between processes, who may read them, the workers' port."""
    return {
        "metrics_dir": env.get("PROMETHEUS_MULTIPROC_DIR") or None,
        "metrics_token": env.get("METRICS_TOKEN") or None,
        "worker_metrics_port": _int(env, "WORKER_METRICS_PORT", 0),
    }


def environment_with(**overrides: str) -> dict[str, str]:
    """This process's environment plus `overrides`: what a command it
    replaces itself with (`herald workers` → dramatiq) starts with."""
    return {**os.environ, **overrides}


def _push(env: Mapping[str, str]) -> dict:
    """Push notifications (FCM); without FCM_CREDENTIALS_FILE pushes are logged."""
    return {
        "push_enabled": env.get("PUSH_ENABLED", "on") != "off",
        "fcm_credentials_file": env.get("FCM_CREDENTIALS_FILE") or None,
        "fcm_project_id": env.get("FCM_PROJECT_ID") or None,
        "fcm_endpoint": env.get("FCM_ENDPOINT") or None,
        "fcm_timeout_seconds": _int(env, "FCM_TIMEOUT_SECONDS", 10),
        "fcm_http_retries": _int(env, "FCM_HTTP_RETRIES", 1),
        "push_breaker_fail_max": _int(env, "PUSH_BREAKER_FAIL_MAX", 5),
        "push_breaker_reset_seconds": _int(env, "PUSH_BREAKER_RESET_SECONDS", 30),
    }


def _telemetry(env: Mapping[str, str]) -> dict:
    """Log format and level; the OTLP endpoint traces go to (none: no tracing)."""
    log_format = env.get("LOG_FORMAT", "auto").strip().lower() or "auto"
    if log_format not in ("auto", "json", "text"):
        raise ConfigError(f"LOG_FORMAT must be auto, json or text, not {log_format!r}")
    log_level = env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {log_level!r}")
    # The OpenTelemetry variables' own names and meaning (OTLP over HTTP, protobuf).
    headers = dict(part.split("=", 1) for part in _list(env, "OTEL_EXPORTER_OTLP_HEADERS") if "=" in part)
    return {
        "log_format": log_format,
        "log_level": log_level,
        "otel_endpoint": env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
        "otel_headers": {key.strip(): value.strip() for key, value in headers.items()},
        "otel_service_name": env.get("OTEL_SERVICE_NAME") or None,
    }


def _webhooks(env: Mapping[str, str], embedded: bool) -> dict:
    """Webhook URL rules, the receiver's time limit and the retry schedule."""
    return {
        "webhook_allow_http": env.get("WEBHOOK_ALLOW_HTTP", "on" if embedded else "off") == "on",
        "webhook_allow_private": env.get("WEBHOOK_ALLOW_PRIVATE", "off") == "on",
        "webhook_timeout_seconds": _float(env, "WEBHOOK_TIMEOUT_SECONDS", 10.0),
        "webhook_first_delay_seconds": _float(env, "WEBHOOK_FIRST_DELAY_SECONDS", 30.0),
        "webhook_max_delay_seconds": _float(env, "WEBHOOK_MAX_DELAY_SECONDS", 3600.0),
        "webhook_window_seconds": _float(env, "WEBHOOK_WINDOW_SECONDS", 24 * 3600.0),
        "webhook_stall_seconds": _int(env, "WEBHOOK_STALL_SECONDS", 60),
    }
