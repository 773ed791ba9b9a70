"""`herald dlq`: the argument wiring of the dead-letter commands (standard
library only: the actions in cli.dead_letters are imported when run)."""

from __future__ import annotations

import argparse

REQUEUE_HELP = """\
Requeue dead letters: each gets a fresh outbox row in the same transaction
that marks it requeued, resets the deliveries its failure had failed and
writes the audit log (actor: the system, via "cli"). This command does not
publish to RabbitMQ itself: a running worker's outbox sweeper publishes the
rows within seconds (OUTBOX_SWEEP_INTERVAL_SECONDS)."""


def add_commands(commands) -> None:
    """Add `dlq list|requeue|discard` to the `herald` subcommands."""
    dlq = commands.add_parser("dlq", help="dead letters: list, requeue, discard")
    actions = dlq.add_subparsers(required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="print dead letters as JSON lines, newest first")
    _filters(listing)
    listing.add_argument("--state", default="dead", choices=["dead", "requeued", "discarded", "any"])
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listing.set_defaults(handler=_list)

    requeue = actions.add_parser("requeue", help="requeue dead letters (the outbox sweeper publishes them)",
                                 description=REQUEUE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    requeue.add_argument("ids", nargs="*", type=int, metavar="ID")
    requeue.add_argument("--all", action="store_true", help="every dead letter matching --queue/--reason")
    _filters(requeue)
    requeue.set_defaults(handler=_requeue)

    discard = actions.add_parser("discard", help="give up on dead letters for good")
    discard.add_argument("ids", nargs="+", type=int, metavar="ID")
    discard.set_defaults(handler=_discard)


def _filters(parser) -> None:
    parser.add_argument("--queue", help="only this queue")
    parser.add_argument("--reason", help="only this reason (the error class name)")


def _list(args) -> int:
    from cli import dead_letters

    for line in dead_letters.list_letters(queue=args.queue, reason=args.reason, state=args.state, limit=args.limit):
        print(line)
    return 0


def _requeue(args) -> int:
    from cli import dead_letters

    if bool(args.ids) == args.all:
        raise SystemExit("herald: give dead-letter ids, or --all (with --queue/--reason to narrow it)")
    if args.ids and (args.queue or args.reason):
        raise SystemExit("herald: --queue and --reason go with --all")
    print(dead_letters.requeue(args.ids, queue=args.queue, reason=args.reason))
    return 0


def _discard(args) -> int:
    from cli import dead_letters

    print(dead_letters.discard(args.ids))
    return 0
