"""The log format every process shares (telemetry/logs.py) and the ids it
carries (telemetry/context.py): JSON fields, text for a person at a
terminal, which format `auto` picks, and which client ids are taken."""

from __future__ import annotations

import io
import json
import logging

import pytest

from config import ConfigError, load_settings
from telemetry import context
from telemetry.logs import make_handler, resolve_format

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def logged():
    """Log through a Herald handler into a buffer: (logger, buffer)."""
    buffer = io.StringIO()
    logger = logging.getLogger("herald.test.format")
    logger.setLevel(logging.INFO)
    logger.propagate = False

    def use(fmt):
        logger.handlers[:] = [make_handler(fmt, buffer)]
        return logger, buffer
    yield use
    logger.handlers[:] = []
    context.clear()


def test_a_json_line_has_time_level_logger_message_the_context_and_its_own_fields(logged):
    logger, buffer = logged("json")
    with context.bound(request_id="req-1", traceparent=TRACEPARENT, message_id=7, user_id=3):
        logger.info("sent %s", "it", extra={"status": 202, "duration_ms": 1.5})
    line = json.loads(buffer.getvalue())
    assert list(line)[:4] == ["time", "level", "logger", "message"]
    assert (line["level"], line["logger"], line["message"]) == ("INFO", "herald.test.format", "sent it")
    assert line["time"].endswith("+00:00") and "T" in line["time"]  # ISO 8601, UTC
    assert {k: line[k] for k in ("request_id", "trace_id", "message_id", "user_id", "status", "duration_ms")} == {
        "request_id": "req-1", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "message_id": 7, "user_id": 3,
        "status": 202, "duration_ms": 1.5}
    assert "traceparent" not in line  # its trace id is printed, not the header


def test_a_json_line_carries_the_traceback_and_nothing_of_a_context_that_ended(logged):
    logger, buffer = logged("json")
    with context.bound(request_id="req-2"):
        pass
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    line = json.loads(buffer.getvalue())
    assert line["level"] == "ERROR" and "ValueError: boom" in line["exc_info"]
    assert "request_id" not in line


def test_a_text_line_is_readable_with_the_fields_after_the_message(logged):
    logger, buffer = logged("text")
    with context.bound(request_id="req-3"):
        logger.info("GET /healthz 200", extra={"status": 200})
    text = buffer.getvalue().strip()
    assert text.endswith("INFO herald.test.format: GET /healthz 200 status=200 request_id=req-3")
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


@pytest.mark.parametrize("setting, embedded, interactive, chosen", [
    ("auto", True, True, "text"),    # `herald run` at a terminal
    ("auto", True, False, "json"),   # embedded, output to a file or a pipe
    ("auto", False, True, "json"),   # full-mode processes: always JSON unless told
    ("text", False, False, "text"),
    ("json", True, True, "json"),
])
def test_auto_is_text_only_for_embedded_mode_at_a_terminal(setting, embedded, interactive, chosen):
    assert resolve_format(setting, embedded=embedded, interactive=interactive) == chosen


def test_log_settings_are_checked():
    assert load_settings({"LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        load_settings({"LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        load_settings({"LOG_LEVEL": "loud"})
    otel = load_settings({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
                          "OTEL_EXPORTER_OTLP_HEADERS": "api-key=abc, x=1"})
    assert (otel.otel_endpoint, otel.otel_headers) == ("http://collector:4318", {"api-key": "abc", "x": "1"})


@pytest.mark.parametrize("sent", ["abc-123", "7f1c9a2e-6c1b-4f7e-9a51-2d0c3b8e4f10", "svc:gw/req.42", "a" * 128])
def test_a_plain_bounded_request_id_is_taken(sent):
    assert context.request_id_from(sent) == sent


@pytest.mark.parametrize("sent", [None, "", "a" * 129, "has space", "line\nbreak", "<script>", "quote\"d", "ünï"])
def test_any_other_request_id_is_replaced_by_a_new_one(sent):
    chosen = context.request_id_from(sent)
    assert chosen != sent and len(chosen) == 32 and int(chosen, 16) >= 0


def test_only_a_w3c_traceparent_is_taken():
    assert context.valid_traceparent(TRACEPARENT) == TRACEPARENT
    for bad in ("", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "00-XYZ-00f067aa0ba902b7-01"):
        assert context.valid_traceparent(bad) is None
