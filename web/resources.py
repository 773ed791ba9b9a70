"""What one edge process holds: the use cases' ports, the socket hub, token
and SMS configuration, queue depths. Built once in create_app, read by views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from config import Settings
from usecases.ports import Ports


@dataclass
class EdgeResources:
    ports: Ports
    settings: Settings
    hub: Any
    tokens: Any
    engine: Any
    sms: Any
    depths: Any
    presence_sweeper: Any = None  # web.presence.PresenceSweeper, started by the first socket

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
