"""One log format for every process (D50): JSON lines with `time`, `level`,
`logger`, `message` and the context fields (`request_id`, `trace_id`,
`message_id`, `job_id`, `actor`, `user_id`, where known) plus whatever a
line adds (`extra=`); or, for a person at a terminal, the same as text.

Every composition root calls `configure_logging` once: gunicorn's logger
class (gunicorn.conf.py), `herald run` and the other `herald` commands
(cli/), and each Dramatiq worker process (workers/main.py).
"""

from __future__ import annotations

import logging
import sys
from typing import IO

from pythonjsonlogger.json import JsonFormatter

from telemetry.context import TRACEPARENT, current

FORMATS = ("auto", "json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else on a record is a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
# Libraries that talk too much at INFO (alembic's "Running upgrade …" lines stay).
_QUIET = {"pika": logging.WARNING, "urllib3": logging.WARNING, "alembic.runtime.plugins": logging.WARNING}


class ContextFilter(logging.Filter):
    """Puts the bound context fields on each record (on the handler, so lines
    propagated from any logger get them); a field the line sets itself wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in current().items():
            if key != TRACEPARENT and key not in record.__dict__:
                setattr(record, key, value)
        return True


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value …` (fields after the message, before any traceback)."""

    def __init__(self):
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={value}" for key, value in record.__dict__.items()
                          if key not in _STANDARD and not key.startswith("_"))
        line = super().formatMessage(record)
        return f"{line} {fields}" if fields else line


class _JsonFormatter(JsonFormatter):
    def process_log_record(self, log_data: dict) -> dict:
        return {"time": log_data.pop("time"), **log_data}  # time first: easier on the eye


def json_formatter() -> logging.Formatter:
    """python-json-logger, fields renamed to Herald's names; `time` is ISO 8601 UTC."""
    return _JsonFormatter(["levelname", "name", "message"], timestamp="time",
                         rename_fields={"levelname": "level", "name": "logger"},
                         reserved_attrs=[*_STANDARD - {"message"}], json_ensure_ascii=False)


def resolve_format(setting: str, *, embedded: bool, interactive: bool) -> str:
    """`json` or `text`: `auto` is text only for embedded mode at an interactive terminal."""
    if setting not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {setting!r}")
    if setting == "auto":
        return "text" if embedded and interactive else "json"
    return setting


def make_handler(fmt: str, stream: IO[str]) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    _adopt(handler, fmt)
    return handler


def configure_logging(setting: str, level: str = "INFO", *, embedded: bool, stream: IO[str] | None = None) -> str:
    """Set up the root logger; returns the format chosen. Idempotent.

    Handlers already on the root logger (a Dramatiq worker process writes to
    a pipe its parent reads) keep their streams and take Herald's format.
    """
    stream = stream or sys.stderr
    fmt = resolve_format(setting, embedded=embedded, interactive=_isatty(stream))
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not root.handlers:
        root.addHandler(logging.StreamHandler(stream))
    for handler in root.handlers:
        _adopt(handler, fmt)
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(max(quiet, root.level))
    return fmt


def _adopt(handler: logging.Handler, fmt: str) -> None:
    handler.setFormatter(json_formatter() if fmt == "json" else TextFormatter())
    if not any(isinstance(f, ContextFilter) for f in handler.filters):
        handler.addFilter(ContextFilter())


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
