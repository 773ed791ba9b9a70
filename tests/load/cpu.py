"""CPU seconds per part of the stack, read from /proc (Linux), so a run can
say where the machine's cores went: per message, per process group.

Processes are grouped by what they are: our own process groups (the
gunicorn and dramatiq trees are started in their own sessions), the
benchmark's own processes, and the shared services by command name. The
services are shared with whatever else runs on the machine, and the
machine total includes everything: read those two as context.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
MACHINE = "machine (all CPUs, everything)"
SERVICES = {"postgres": "postgresql", "beam.smp": "rabbitmq", "redis-server": "redis"}


def _processes():
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        yield int(entry.name), comm, int(fields[2]), (int(fields[11]) + int(fields[12])) / TICK


def machine_busy_seconds() -> float:
    """All CPUs' non-idle time since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / TICK


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def snapshot(groups: dict[str, int], harness_pids: set[int], database: str | None = None) -> Counter:
    """CPU seconds so far: `groups` maps a label to a process group id;
    PostgreSQL counts only the backends serving `database` when given."""
    by_group = {pgid: label for label, pgid in groups.items()}
    seconds: Counter = Counter()
    if not Path("/proc/stat").exists():
        return seconds
    for pid, comm, pgrp, cpu in _processes():
        if pgrp in by_group:
            seconds[by_group[pgrp]] += cpu
        elif pid in harness_pids:
            seconds["benchmark clients"] += cpu
        elif comm == "postgres" and database:
            if f" {database} " in _cmdline(pid):
                seconds["postgresql (our backends)"] += cpu
        elif comm in SERVICES:
            seconds[SERVICES[comm]] += cpu
    seconds[MACHINE] = machine_busy_seconds()
    return seconds


def difference(before: Counter, after: Counter) -> dict[str, float]:
    """Per label; a process that exited in between takes its seconds along,
    so a label never goes below zero."""
    return {label: max(0.0, after[label] - before.get(label, 0.0)) for label in after}
