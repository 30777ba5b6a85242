"""Alembic environment: the URL comes from -x url=..., the config, or Settings."""

from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

import backend.models  # noqa: F401  (registers every table)
from alembic import context
from backend.config import Settings
from backend.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.attributes.get("url")
        or Settings().database_url
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=_url().startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = _url()
    if url.startswith("sqlite"):
        make_engine(url).dispose()  # creates var/ and sets WAL on the file
        engine = create_engine(url, poolclass=pool.NullPool)
    else:
        engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # replicas starting together migrate one after another: the
                # second reads the version the first committed, and does nothing
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7214981)")
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
