"""The edge's application factory: the one place that wires the edge."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Flask

from config import Settings, load_settings
from db.engine import make_engine, make_session_factory, on_pool_use
from metrics.breakers import watch
from metrics.collector import PipelineCollector
from metrics.exposition import render
from metrics.meter import PrometheusMeter
from metrics.pipeline import DB_POOL_IN_USE
from pipeline.contract import all_queues, delivery_queues
from rabbitmq.depths import FixedDepth, QueueDepths
from rabbitmq.probe import broker_answers
from rabbitmq.publisher import BatchPublisher
from realtime import make_key_cache, make_presence, make_realtime
from realtime.breaker_board import make_breaker_board
from usecases.operations.pipeline_status import pipeline_status
from usecases.outbox import make_marker
from usecases.ports import ChatPolicy, OutboxPolicy, PhonePolicy, Ports, PushPolicy, SignInPolicy, WebhookPolicy
from telemetry import tracing
from web import metrics as http_metrics
from web import overload, problems, request_log
from web.admin.session import session_secret
from web.auth import scope
from web.auth.revocations import MIN_HORIZON_SECONDS, Revocations, RevocationWatch
from web.auth.sms import make_sms_sender
from web.auth.tokens import TokenConfig
from web.extensions import limiter, sock
from web.presence import PresenceSweeper
from web.webhook_hosts import resolve_host
from web.ws.lost_rings import LostRingCheck
from web.resources import EdgeResources, Readiness, Scrape, SendLimits, SocketPolicy
from web.ws.hub import Hub

MAX_REQUEST_BYTES = 1024 * 1024


def create_app(settings: Settings | None = None, *, publisher=None, realtime=None, presence=None, depths=None,
               test_config: dict | None = None) -> Flask:
    """Build the edge. Embedded mode passes in the in-process publisher,
    realtime and presence it shares with its worker; full mode builds its own."""
    settings = settings or load_settings()
    # After gunicorn's fork (create_app runs in each worker): the span exporter's thread is this process's.
    tracing.configure(settings.otel_endpoint, settings.otel_service_name or "herald-edge", settings.otel_headers)
    app = Flask(__name__)
    _configure(app, settings)
    request_log.init_app(app)  # first: every later hook's failure is logged with the request id
    app.config.update(test_config or {})
    engine = make_engine(settings.database_url, settings.db_pool_size, settings.db_pool_timeout_seconds)
    on_pool_use(engine, DB_POOL_IN_USE.inc, DB_POOL_IN_USE.dec)
    sessions = make_session_factory(engine)
    realtime = realtime or make_realtime(settings.redis_url, settings.redis_namespace)
    ports = Ports(sessions=sessions, publisher=publisher or _rabbitmq_publisher(settings, sessions),
                  realtime=realtime,
                  presence=presence or make_presence(realtime, settings.redis_url, settings.redis_namespace),
                  outbox=OutboxPolicy(settings.delivery_partitions, settings.outbox_sweep_after_seconds),
                  chat=ChatPolicy(settings.group_member_limit, settings.edit_window_seconds,
                                  settings.max_body_chars, settings.typing_ttl_seconds),
                  push=PushPolicy(settings.push_enabled), meter=PrometheusMeter(),
                  phones=PhonePolicy(settings.default_phone_region),
                  key_cache=make_key_cache(realtime, settings.redis_url, settings.redis_namespace),
                  webhooks=webhook_policy(settings))
    board = make_breaker_board(settings.redis_url, settings.redis_namespace)
    if getattr(realtime, "guard", None) is not None:
        watch(realtime.guard.breaker, "redis", board)
    app.extensions["herald"] = res = _resources(settings, ports, depths or _queue_depths(settings), board)
    res.revocation_watch = RevocationWatch(res)
    http_metrics.init_app(app)  # before the other hooks: it times every request, refused ones too
    problems.init_app(app)
    overload.init_app(app, settings.edge_max_concurrent_posts, settings.edge_post_wait_seconds)  # before any work
    scope.init_app(app)  # before any view: scoped tokens reach only their endpoints
    limiter.init_app(app)
    sock.init_app(app)
    _register_blueprints(app)
    return app


def start_revocation_watch(app: Flask) -> None:
    """Hear token revocations in this process (docs/decisions.md D60): once
    per edge process, after the fork (gunicorn's post_worker_init, the
    embedded launcher); test apps start it when they test it."""
    app.extensions["herald"].revocation_watch.start()


def _configure(app: Flask, settings: Settings) -> None:
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SECRET_KEY=session_secret(settings.jwt_secret),  # signs the admin pages' session cookie
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_KEY_PREFIX=settings.redis_namespace,
        RATELIMIT_ENABLED=settings.rate_limits_enabled,
        SESSION_COOKIE_SECURE=settings.admin_cookie_secure,  # the admin pages' cookie: HTTPS only unless off
        SOCK_SERVER_OPTIONS={"ping_interval": settings.ws_ping_seconds,
                             "max_message_size": settings.ws_max_frame_bytes},
    )


def webhook_policy(settings: Settings) -> WebhookPolicy:
    return WebhookPolicy(settings.webhook_allow_http, settings.webhook_allow_private,
                         settings.webhook_timeout_seconds, settings.webhook_first_delay_seconds,
                         settings.webhook_max_delay_seconds, settings.webhook_window_seconds,
                         stall_seconds=settings.webhook_stall_seconds)


def _resources(settings: Settings, ports: Ports, depths, board) -> EdgeResources:
    """What views and sockets read: ports, hub, token and SMS configuration, policies."""
    def snapshot(now: datetime | None = None):
        return pipeline_status(ports.sessions, depths, board, now or datetime.now(timezone.utc))

    collector = PipelineCollector(snapshot)
    return EdgeResources(
        ports=ports, hub=Hub(ports.realtime), tokens=TokenConfig.from_settings(settings),
        # Built here so an unknown SMS_SENDER fails at start-up, not at the first code.
        sms=make_sms_sender(settings.sms_sender), depths=depths,
        broker_answers=(lambda: broker_answers(settings.broker_url)) if settings.broker_url else (lambda: True),
        presence_sweeper=PresenceSweeper(settings.ws_ping_seconds),
        revocations=Revocations(max(settings.access_token_ttl_seconds, MIN_HORIZON_SECONDS)),
        lost_rings=LostRingCheck(settings.ws_ping_seconds),
        sockets=SocketPolicy(settings.ws_ping_seconds, settings.ws_max_frame_bytes, settings.ws_send_queue_limit,
                             settings.ws_ticket_ttl_seconds, settings.ws_allowed_origins),
        sign_in=SignInPolicy(settings.otp_ttl_seconds, settings.otp_max_attempts,
                             settings.refresh_token_ttl_seconds, otp_pepper=settings.jwt_secret),
        limits=SendLimits(settings.max_recipients, settings.max_body_chars, settings.backpressure_depth,
                          settings.backpressure_hard_depth),
        readiness=Readiness(broker_configured=settings.broker_url is not None,
                            redis_configured=settings.redis_url is not None),
        scrape=Scrape(lambda: render(settings.metrics_dir, [collector]), settings.metrics_token),
        pipeline_status=snapshot, resolve_host=resolve_host)


def _rabbitmq_publisher(settings: Settings, sessions) -> BatchPublisher:
    if settings.broker_url is None:
        raise RuntimeError("embedded mode: the launcher passes its in-process publisher")
    marker = make_marker(sessions, lambda: datetime.now(timezone.utc))
    return BatchPublisher(settings.broker_url, all_queues(settings.delivery_partitions), marker)


def _queue_depths(settings: Settings):
    if settings.broker_url is None:
        return FixedDepth(0)  # the embedded launcher passes the stub broker's depths
    return QueueDepths(settings.broker_url, delivery_queues(settings.delivery_partitions),
                       other_queues=all_queues(settings.delivery_partitions))


def _register_blueprints(app: Flask) -> None:
    from web.blueprints import admin_api, admin_pages, apidocs, auth, conversations, devices, messages, ops, ws
    from web.blueprints import presence, privacy
    from web.blueprints import conversation_members, conversation_messages, conversation_status
    from web.blueprints import blocks, message_changes, reactions, webhooks
    from web.blueprints import (admin_conversations, admin_dashboard, admin_messages, admin_users_api,
                                admin_users_pages, api_keys)

    for module in (ops, apidocs, auth, messages, conversations, ws, devices, admin_api, admin_pages,
                   presence, privacy, conversation_messages, conversation_members, conversation_status,
                   message_changes, reactions, blocks, admin_dashboard, admin_messages, admin_conversations,
                   api_keys, admin_users_api, admin_users_pages, webhooks):
        app.register_blueprint(module.bp)
