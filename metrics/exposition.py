"""Answering a scrape: this process's metrics, or — in multiprocess mode —
every process's files summed, plus the collectors computed now."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector


class _Scrape:
    def __init__(self, sources):
        self._sources = sources

    def collect(self):
        for source in self._sources:
            yield from source.collect()


def render(multiprocess_dir: str | None, extra=()) -> tuple[bytes, str]:
    """The exposition text and its content type."""
    base = MultiProcessCollector(None, path=multiprocess_dir) if multiprocess_dir else REGISTRY
    return generate_latest(_Scrape([base, *extra])), CONTENT_TYPE_LATEST


def mark_process_dead(multiprocess_dir: str | None, pid: int) -> None:
    """A process ended: drop its live gauges' files (gunicorn's child_exit)."""
    if multiprocess_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, multiprocess_dir)


def clear_directory(multiprocess_dir: str | None) -> None:
    """Start from nothing: the files of an earlier run would be summed in."""
    if not multiprocess_dir:
        return
    from pathlib import Path

    folder = Path(multiprocess_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()
