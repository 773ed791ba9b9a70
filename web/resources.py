"""What one edge process holds: the use cases' ports, the socket hub, token
and SMS configuration, queue depths. Built once in create_app, read by views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

from flask import current_app

from usecases.ports import Ports, SignInPolicy
from web.auth.sms import SmsSender
from web.auth.tokens import TokenConfig

if TYPE_CHECKING:  # the hub and the sweeper import this module's resources() at run time
    from usecases.operations.pipeline_status import PipelineStatus
    from web.auth.revocations import Revocations, RevocationWatch
    from web.presence import PresenceSweeper
    from web.ws.hub import Hub
    from web.ws.lost_rings import LostRingCheck


class QueueDepth(Protocol):
    """The deepest delivery queue, polled in the background (rabbitmq.depths)."""

    def deepest(self) -> int: ...


@dataclass(frozen=True)
class SendLimits:
    """What the edge refuses before anything is written: one-way sends'
    size, and the queue depths past which it sheds load (pipeline.backpressure)."""

    max_recipients: int = 100
    max_body_chars: int = 10_000
    backpressure_depth: int = 10_000
    backpressure_hard_depth: int = 100_000


@dataclass(frozen=True)
class SocketPolicy:
    """The WebSocket's limits: heartbeat, frame cap, per-socket queue, tickets, origins."""

    ping_seconds: int = 25
    max_frame_bytes: int = 64 * 1024
    send_queue_limit: int = 1000
    ticket_ttl_seconds: int = 30
    allowed_origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class Readiness:
    """Which dependencies this edge is configured with (embedded mode: neither)."""

    broker_configured: bool = True
    redis_configured: bool = True


@dataclass(frozen=True)
class Scrape:
    """How `/metrics` answers: `render()` → (body, content type); `token`: a
    bearer token the scraper must send (None: open, like most exporters)."""

    render: Callable[[], tuple[bytes, str]]
    token: str | None = None


@dataclass
class EdgeResources:
    """Built once by create_app; views and sockets read it, never the settings."""

    ports: Ports
    hub: "Hub"
    tokens: TokenConfig
    sms: SmsSender
    depths: QueueDepth
    broker_answers: Callable[[], bool]  # readiness: can the broker be reached now
    sign_in: SignInPolicy
    limits: SendLimits = SendLimits()
    sockets: SocketPolicy = SocketPolicy()
    presence_sweeper: "PresenceSweeper | None" = None  # started by the first socket
    readiness: Readiness = Readiness()
    scrape: Scrape = Scrape(lambda: (b"", "text/plain"))
    # ([now]) -> usecases.operations.pipeline_status.PipelineStatus (taken now
    # when no time is given): the admin dashboard's figures and the metrics'
    # scrape-time gauges.
    pipeline_status: "Callable[..., PipelineStatus] | None" = None
    revocations: "Revocations | None" = None  # recent token revocations (D60), checked per request
    revocation_watch: "RevocationWatch | None" = None  # started once per process (start_revocation_watch)
    resolve_host: Callable[[str], list[str]] = lambda host: []  # webhook hosts (web.webhook_hosts)
    lost_rings: "LostRingCheck | None" = None  # started by the first socket


def resources() -> EdgeResources:
    return current_app.extensions["herald"]
