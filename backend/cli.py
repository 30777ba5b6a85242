"""The `mutual` command: serve, migrate, demo, and operator tools.

Each command imports what it needs when it runs, so `mutual migrate` or
`mutual reset-link` start without loading the web app, uvicorn or WeasyPrint.
"""

import argparse
import ipaddress
import sys
from pathlib import Path

from backend.config import Settings


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from backend.live.serving import serve, server_config
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
    where = address(args.host, args.port, settings)
    sys.stdout.write(f"Mutual is serving at {where}\n")
    sys.stdout.flush()
    serve(config)
    return 0


def address(host: str, port: int, settings: Settings) -> str:
    """Where a person opens Mutual, as the server is about to listen."""
    if settings.base_url:
        return settings.base_url.rstrip("/")
    if not host or _unspecified(host):
        return f"http://127.0.0.1:{port} (and this machine's other addresses)"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _unspecified(host: str) -> bool:
    """0.0.0.0 or ::, which listen on every address rather than name one."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False  # a name, such as localhost


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


def _rotate_key(args: argparse.Namespace, settings: Settings) -> int:
    from sqlmodel import SQLModel

    import backend.models  # noqa: F401  (registers every table)
    from backend.crypto import KeyProblem, left_behind, rotate, use_keys
    from backend.db import make_engine

    keys = use_keys(settings)
    engine = make_engine(settings.database_url)

    def progress(where: str, done: int) -> None:
        sys.stdout.write(f"{where}: {done} re-encrypted\n")

    try:
        rotate(engine, SQLModel.metadata, keys, size=args.batch, progress=progress)
        with engine.connect() as conn:
            left = left_behind(conn, SQLModel.metadata, keys)
    except KeyProblem as problem:
        sys.stderr.write(f"{problem}. Nothing more was changed.\n")
        return 1
    finally:
        engine.dispose()
    if left:
        sys.stderr.write(f"{left} values are still under an older key: run it again.\n")
        return 1
    sys.stdout.write(
        "Everything is under the newest key. Remove the older keys from "
        "MUTUAL_ENCRYPTION_KEYS and restart the server.\n"
    )
    return 0


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from backend.backup import BackupProblem, backup

    try:
        backup(settings.database_url, args.path)
    except BackupProblem as problem:
        sys.stderr.write(f"{problem}\n")
        return 1
    sys.stdout.write(
        f"Backed up to {args.path}. The words in it are encrypted: keep the "
        "encryption key safe, and apart from the backup.\n"
    )
    return 0


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    from backend.backup import BackupProblem, restore

    try:
        unreadable = restore(settings.database_url, args.path)
    except BackupProblem as problem:
        sys.stderr.write(f"{problem}\n")
        return 1
    if unreadable:
        sys.stderr.write(
            f"Restored, but the encryption keys cannot open {', '.join(unreadable)}:"
            " set MUTUAL_ENCRYPTION_KEYS to the keys of the backup before serving.\n"
        )
        return 1
    sys.stdout.write("Restored, and brought to the newest schema.\n")
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
    rotate = commands.add_parser(
        "rotate-key", help="re-encrypt the stored words under the newest key"
    )
    rotate.add_argument("--batch", type=int, default=500, help="rows per transaction")
    rotate.set_defaults(handler=_rotate_key)
    save = commands.add_parser("backup", help="copy the SQLite database while it runs")
    save.add_argument("path", type=Path)
    save.set_defaults(handler=_backup)
    restore = commands.add_parser(
        "restore", help="copy a backup into an empty SQLite database"
    )
    restore.add_argument("path", type=Path)
    restore.set_defaults(handler=_restore)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args, Settings()))


if __name__ == "__main__":
    raise SystemExit(main())
