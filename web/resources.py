"""What one edge process holds: the use cases' ports, the socket hub, token
and SMS configuration, queue depths. Built once in create_app, read by views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from usecases.ports import Ports, SignInPolicy


@dataclass(frozen=True)
class SendLimits:
    """What the edge refuses before anything is written: one-way sends'
    size, and the queue depths past which it sheds load (pipeline.backpressure)."""

    max_recipients: int = 100
    max_body_chars: int = 10_000
    backpressure_depth: int = 10_000
    backpressure_hard_depth: int = 100_000


@dataclass
class EdgeResources:
    ports: Ports
    settings: Any  # config.Settings, read by create_app and what still needs a raw setting
    hub: Any
    tokens: Any
    engine: Any
    sms: Any
    depths: Any
    presence_sweeper: Any = None  # web.presence.PresenceSweeper, started by the first socket
    sign_in: SignInPolicy | None = None
    limits: SendLimits = SendLimits()

    @property
    def sessions(self):
        return self.ports.sessions

    @property
    def publisher(self):
        return self.ports.publisher

    @property
    def realtime(self):
        return self.ports.realtime

    @property
    def presence(self):
        return self.ports.presence


def resources() -> EdgeResources:
    return current_app.extensions["herald"]
