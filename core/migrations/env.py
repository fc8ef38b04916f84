"""Alembic environment: runs on the connection `core.db.migrate` hands over, or on `DB_URL` when run
from the command line (`alembic upgrade head`)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import core.models  # noqa: F401 - registers the tables for autogenerate
from core.config import get_settings
from core.db import get_engine

target_metadata = SQLModel.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        with get_engine(get_settings().resolved_db_url).connect() as connection:
            _migrate(connection)
            connection.commit()
    else:
        _migrate(connection)


def _migrate(connection) -> None:
    # SQLite changes columns by copying tables ("batch" mode); Postgres alters them in place.
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run()
