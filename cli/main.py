"""`herald`: operator commands. Imports are lazy per command so `herald run`
can patch with gevent before anything imports `socket`."""

from __future__ import annotations

import argparse
import json
import sys

from cli import dlq  # argument wiring only: standard library


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.handler is not _run:  # `herald run` sets up its own, after gevent patched the process
            _configure_logging()
        return args.handler(args) or 0
    except Exception as error:
        from cli.failures import explain

        message = explain(error)
        if message is None:
            raise
        print(f"herald: {message}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="herald", description="Herald message delivery service")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run embedded mode (SQLite, in-process broker) with a demo")
    run.set_defaults(handler=_run)
    _add_account_commands(commands)
    _add_operator_commands(commands)
    dlq.add_commands(commands)
    db = commands.add_parser("db", help="database").add_subparsers(required=True, metavar="ACTION")
    db.add_parser("upgrade", help="apply migrations").set_defaults(handler=_db_upgrade)
    return parser


def _add_account_commands(commands) -> None:
    user = commands.add_parser("user", help="manage users").add_subparsers(required=True, metavar="ACTION")
    create = user.add_parser("create", help="create a user and print its id and an access token")
    create.add_argument("--role", required=True, choices=["business", "mobile", "admin"])
    create.add_argument("--phone", help="E.164 number (mobile users)")
    create.add_argument("--name")
    create.add_argument("--username", help="login name (business and admin users)")
    create.add_argument("--password", help="password for /v1/auth/login")
    create.set_defaults(handler=_user_create)

    demo = commands.add_parser("demo", help="the embedded demo users").add_subparsers(required=True, metavar="ACTION")
    demo.add_parser("env", help="print `export NAME=token` lines for the demo users (eval them)").set_defaults(
        handler=_demo_env)

    api_key = commands.add_parser("api-key", help="API keys of business users").add_subparsers(
        required=True, metavar="ACTION")
    key_create = api_key.add_parser("create", help="create an API key and print its secret (shown only once)")
    key_create.add_argument("--user", required=True, type=int, help="the business user's id")
    key_create.add_argument("--name", required=True, help="what the key is for, e.g. 'billing server'")
    key_create.set_defaults(handler=_api_key_create)

    token = commands.add_parser("token", help="print an access token for a user")
    token.add_argument("user_id", type=int)
    token.set_defaults(handler=_token)


def _add_operator_commands(commands) -> None:
    workers = commands.add_parser("workers", help="start a worker pool on a subset of queues (execs dramatiq)")
    workers.add_argument("--pool", default="all", choices=["delivery", "push", "webhooks", "all"])
    workers.add_argument("--partitions", help="delivery partitions, e.g. 0-3 or 0,2 (default: all)")
    workers.add_argument("--lanes", help="delivery lanes, e.g. high or high,normal (default: all)")
    workers.add_argument("--processes", type=int, default=2)
    workers.add_argument("--threads", type=int, default=8)
    workers.add_argument("--metrics-port", type=int,
                         help="serve the pool's metrics on this port (default: WORKER_METRICS_PORT, 9191; 0: none)")
    workers.add_argument("--dry-run", action="store_true", help="print the dramatiq command instead")
    workers.set_defaults(handler=_workers)

    status = commands.add_parser("status", help="queue depths and consumers, outbox backlog, dead letters, breakers")
    status.add_argument("--json", action="store_true", help="print the snapshot as JSON")
    status.set_defaults(handler=_status)

    rabbit = commands.add_parser("rabbitmq", help="broker topology").add_subparsers(required=True, metavar="ACTION")
    definitions = rabbit.add_parser("definitions", help="print the definitions JSON RabbitMQ imports at boot")
    definitions.add_argument("--partitions", type=int)
    definitions.set_defaults(handler=_definitions)


def _configure_logging() -> None:
    from config import load_settings
    from telemetry.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level, embedded=settings.embedded)


def _run(args) -> int:
    from cli import embedded

    return embedded.run()


def _user_create(args) -> int:
    from cli import accounts

    print(json.dumps(accounts.create(role=args.role, phone=args.phone, name=args.name,
                                     username=args.username, password=args.password)))
    return 0


def _api_key_create(args) -> int:
    from cli import api_keys

    print(json.dumps(api_keys.create(user_id=args.user, name=args.name)))
    return 0


def _demo_env(args) -> int:
    from cli import demo

    print(demo.shell_exports())
    return 0


def _token(args) -> int:
    from cli import accounts

    print(json.dumps(accounts.token(args.user_id)))
    return 0


def _workers(args) -> int:
    from cli import operations

    try:
        argv = operations.worker_argv(args.pool, args.partitions, args.lanes, args.processes, args.threads)
    except ValueError as e:
        raise SystemExit(f"herald: {e}") from None
    if args.dry_run:
        print(" ".join(argv))
        return 0
    operations.exec_workers(argv, operations.metrics_environment(args.metrics_port))
    return 0


def _status(args) -> int:
    from cli import status

    print(status.render(status.snapshot(), args.json))
    return 0


def _definitions(args) -> int:
    from cli import operations

    operations.print_definitions(args.partitions)
    return 0


def _db_upgrade(args) -> int:
    from cli.database import prepare_folder
    from config import load_settings
    from db.migrate import upgrade

    settings = load_settings()
    prepare_folder(settings.database_url)
    upgrade(settings.database_url)
    print("database is up to date", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
