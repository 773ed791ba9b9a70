"""Operator commands: start a worker pool, print the broker definitions."""

from __future__ import annotations

import os
import sys
import tempfile

from config import load_settings
from config.settings import environment_with
from metrics.exposition import clear_directory
from pipeline.pools import pool_queues
from rabbitmq.definitions import render


def worker_argv(pool: str, partitions: str | None, lanes: str | None, processes: int, threads: int) -> list[str]:
    """The command line that runs the pool: Dramatiq's, through cli.dramatiq_main (Herald's log format)."""
    settings = load_settings()
    chosen_lanes = tuple(lane.strip() for lane in lanes.split(",")) if lanes else ("high", "normal", "low")
    queues = pool_queues(pool, settings.delivery_partitions, partitions, chosen_lanes)
    return [sys.executable, "-m", "cli.dramatiq_main", "workers.main", "--processes", str(processes),
            "--threads", str(threads), "--queues", *queues]


def metrics_environment(port: int | None) -> dict[str, str]:
    """The environment the pool runs with: its metrics port, and the folder
    its processes share values in (PROMETHEUS_MULTIPROC_DIR, else one per
    port under the temp folder), emptied of an earlier run's files."""
    settings = load_settings()
    port = settings.worker_metrics_port if port is None else port
    if not port:
        return environment_with(WORKER_METRICS_PORT="0")
    folder = settings.metrics_dir or os.path.join(tempfile.gettempdir(), f"herald-worker-metrics-{port}")
    clear_directory(folder)
    return environment_with(WORKER_METRICS_PORT=str(port), PROMETHEUS_MULTIPROC_DIR=folder)


def exec_workers(argv: list[str], env: dict[str, str]) -> None:
    """Replace this process with dramatiq, so signals reach it directly."""
    os.execve(argv[0], argv, env)


def print_definitions(partitions: int | None) -> None:
    print(render(partitions or load_settings().delivery_partitions), end="")
