"""The `mutual` command: serve, migrate, demo, and operator tools.

Each command imports what it needs when it runs, so `mutual migrate` or
`mutual reset-link` start without loading the web app, uvicorn or WeasyPrint.
"""

import argparse
import sys

from backend.config import Settings


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from backend.live.serving import server_config
    from backend.logs import install_log_filters

    if args.workers < 1:
        sys.stderr.write("--workers needs a number of processes, 1 or more.\n")
        return 2
    if args.workers > 1 and settings.is_sqlite:
        sys.stderr.write(
            "Several processes need PostgreSQL: a SQLite database is written by one "
            "process only. Set MUTUAL_DATABASE_URL to a postgresql+psycopg:// URL, "
            "or serve with --workers 1.\n"
        )
        return 2
    # made (or read) once here, so every worker starts with the same key
    settings.resolved_secret()
    install_log_filters()
    if args.workers > 1:
        sys.stderr.write(_totals(settings, args.workers))
        app = None
    else:
        from backend.main import create_app

        app = create_app(settings)
    config = server_config(
        app,
        settings,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    if args.workers > 1:
        from uvicorn.supervisors import Multiprocess

        # uvicorn's supervisor: one socket, N processes, a dead one restarted
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()
    return 0


def _totals(settings: Settings, workers: int) -> str:
    """What N processes hold in all: each sizes its pools from the settings."""
    return (
        f"Mutual: {workers} processes, in all up to {workers * 22} database "
        "connections (20 pooled, 1 listening, 1 notifying each), "
        f"{workers * settings.pdf_workers}"
        f" PDF renders and {workers * settings.hash_concurrency} password checks "
        "at once.\n"
    )


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from backend.migrate import upgrade

    upgrade(settings.database_url)
    sys.stdout.write("The database is up to date.\n")
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from backend.demo import seed_demo

    sys.stdout.write(seed_demo(settings) + "\n")
    return 0


def _reset_link(args: argparse.Namespace, settings: Settings) -> int:
    from backend.auth.reset import operator_reset_link

    link = operator_reset_link(settings, args.email)
    if link is None:
        sys.stderr.write("There is no account with that email address.\n")
        return 1
    sys.stdout.write(link + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mutual", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the app with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--proxy-headers", action="store_true")
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    serve.set_defaults(handler=_serve)
    commands.add_parser(
        "migrate", help="bring the database to the newest schema"
    ).set_defaults(handler=_migrate)
    commands.add_parser(
        "demo", help="seed two demo partners and a sample plan"
    ).set_defaults(handler=_demo)
    reset = commands.add_parser("reset-link", help="print a password reset link")
    reset.add_argument("email")
    reset.set_defaults(handler=_reset_link)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args, Settings()))


if __name__ == "__main__":
    raise SystemExit(main())
