"""Database engine, schema migrations (Alembic) and the sweeps of jobs that can no longer finish."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, func, inspect, text, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, create_engine

from core.models import ERROR, JOB_TABLES, PROCESSING, utcnow

INTERRUPTED = "interrupted: the server stopped while this job was running; please start it again"
STALLED = "the worker running this job stopped answering; please start it again"
MIGRATIONS = Path(__file__).parent / "migrations"
BASELINE = "0001"  # the schema create_all made before migrations existed
_MIGRATION_LOCK = 786001  # Postgres advisory lock: one process migrates at a time


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """One engine per URL and process (job worker processes build their own)."""
    engine = _create(url)
    _ENGINES.append(engine)
    return engine


_ENGINES: list[Engine] = []


def forget_engines_after_fork() -> None:
    """In a forked child: drop the parent's pooled connections without closing them (they are still
    the parent's), so the child opens its own."""
    for engine in _ENGINES:
        engine.dispose(close=False)
    _ENGINES.clear()
    get_engine.cache_clear()


def _create(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # WAL lets readers run beside a writer
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def init_db(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with Alembic. A database made before migrations (tables, no
    version) is first marked as the baseline revision, then upgraded like any other."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # API processes may start together
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        cfg = alembic_config(conn)
        tables = set(inspect(conn).get_table_names())
        if tables and "alembic_version" not in tables:
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, revision)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def check_db(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def fail_interrupted_jobs(engine: Engine) -> int:
    """Jobs left `processing` by a dead process can never finish: end them as errors."""
    count = 0
    with session_scope(engine) as s:
        for table in JOB_TABLES:
            res = s.exec(  # type: ignore[call-overload]
                update(table)
                .where(table.status == PROCESSING)
                .values(status=ERROR, log=INTERRUPTED, updated_at=utcnow())
            )
            count += res.rowcount or 0
        s.commit()
    return count


def fail_stalled_jobs(engine: Engine, older_than_s: float) -> int:
    """Jobs a worker started (stage past `queued`) whose row has not moved for `older_than_s`: their
    worker died with them (a queue worker killed mid-job). Running jobs write at every stage and
    end within their time limit, so a still row past limit + grace can never finish."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    count = 0
    with session_scope(engine) as s:
        for table in JOB_TABLES:
            res = s.exec(  # type: ignore[call-overload]
                update(table)
                .where(table.status == PROCESSING, func.coalesce(table.stage, "") != "queued",
                       table.updated_at < cutoff)
                .values(status=ERROR, log=STALLED, updated_at=utcnow())
            )
            count += res.rowcount or 0
        s.commit()
    return count
