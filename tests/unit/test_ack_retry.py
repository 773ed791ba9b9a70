"""A socket's ack flush that meets the edge's bounded pool wait (EdgeOverloaded)
keeps the positions and writes them on a later try, logging once."""

from __future__ import annotations

import logging
import threading

import web.ws.acks as acks_module
from pipeline.errors import EdgeOverloaded
from web.ws.acks import AckBuffer


def test_a_refused_flush_is_retried_with_the_same_positions(monkeypatch, caplog):
    calls, written = [], threading.Event()

    def record_acks(_ports, user_id, acked, read, _now, _context):
        calls.append((user_id, acked, read))
        if len(calls) <= 2:
            raise EdgeOverloaded("no database connection came free within 0.2 s", retry_after=1)
        written.set()

    monkeypatch.setattr(acks_module, "record_acks", record_acks)
    monkeypatch.setattr(acks_module, "RETRY_AFTER_SECONDS", 0.02)
    buffer = AckBuffer(type("Res", (), {"ports": None})(), user_id=7)
    with caplog.at_level(logging.WARNING, logger=acks_module.__name__):
        buffer.note("ack", 5)
        buffer.note("read", 3)
        assert written.wait(5)
    assert calls == [(7, 5, 3)] * 3
    # Only this module's lines: threads of earlier tests (pika, pollers) may log meanwhile.
    ours = [record for record in caplog.records if record.name == acks_module.__name__]
    assert len(ours) == 1 and "edge_overloaded" in ours[0].getMessage()
    buffer.flush()  # nothing new: nothing written again
    assert len(calls) == 3
