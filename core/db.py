"""Database engine, schema creation and the crash-recovery sweep."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from core.models import ERROR, JOB_TABLES, PROCESSING, utcnow

INTERRUPTED = "interrupted: the server stopped while this job was running; please start it again"


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """One engine per URL and process (job worker processes build their own)."""
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


def init_db(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine)


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
