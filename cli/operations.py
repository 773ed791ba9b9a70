"""Operator commands: start a worker pool, print the broker definitions."""

from __future__ import annotations

import os
import sys

from config import load_settings
from pipeline.pools import pool_queues
from rabbitmq.definitions import render


def worker_argv(pool: str, partitions: str | None, lanes: str | None, processes: int, threads: int) -> list[str]:
    """The command line that runs the pool: Dramatiq's, through cli.dramatiq_main (Herald's log format)."""
    settings = load_settings()
    chosen_lanes = tuple(lane.strip() for lane in lanes.split(",")) if lanes else ("high", "normal", "low")
    queues = pool_queues(pool, settings.delivery_partitions, partitions, chosen_lanes)
    return [sys.executable, "-m", "cli.dramatiq_main", "workers.main", "--processes", str(processes),
            "--threads", str(threads), "--queues", *queues]


def exec_workers(argv: list[str]) -> None:
    """Replace this process with dramatiq, so signals reach it directly."""
    os.execv(argv[0], argv)


def print_definitions(partitions: int | None) -> None:
    print(render(partitions or load_settings().delivery_partitions), end="")
