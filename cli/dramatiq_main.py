"""What `herald workers` runs: Dramatiq's own command line, after Herald's
log format is set up, so the supervisor's lines (booting, a worker process
that died, shutting down) are in the same format as everything else.

Dramatiq only calls `logging.basicConfig`, which leaves a configured root
logger alone; the worker processes it forks inherit the handler, and
`workers.main` sets it up again for any it spawns.
"""

from __future__ import annotations

import sys

from dramatiq.cli import main as dramatiq_main

from config import load_settings
from telemetry.logs import configure_logging


def main() -> int:
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level, embedded=settings.embedded)
    return dramatiq_main()


if __name__ == "__main__":
    sys.exit(main())
