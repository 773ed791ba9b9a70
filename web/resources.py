"""What one edge process holds: database sessions, the publisher, the
realtime backend and the socket hub. Built in create_app, read by views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from config import Settings


@dataclass
class EdgeResources:
    settings: Settings
    sessions: sessionmaker[Session]
    publisher: Any
    realtime: Any
    hub: Any
    tokens: Any
    engine: Any
    sms: Any
    depths: Any
    presence: Any = None  # realtime.RedisPresence | InProcessPresence
    presence_sweeper: Any = None  # web.presence.PresenceSweeper, started by the first socket


def resources() -> EdgeResources:
    return current_app.extensions["herald"]
