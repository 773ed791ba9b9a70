"""The edge's resolver for webhook hosts (checked at registration; the
workers check again at every delivery)."""

from __future__ import annotations

import socket


def resolve_host(host: str) -> list[str]:
    """Every address `host` resolves to; none when it does not resolve."""
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})
    except (socket.gaierror, UnicodeError):
        return []
