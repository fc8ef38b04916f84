"""What every process needs to do work: settings, the database engine and the object storage."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.engine import Engine

from core.config import Settings
from core.db import forget_engines_after_fork, get_engine
from core.storage import Storage, make_storage


@dataclass(frozen=True)
class Context:
    settings: Settings
    engine: Engine
    storage: Storage


@lru_cache(maxsize=4)
def _context(settings_json: str) -> Context:
    settings = Settings.model_validate_json(settings_json)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.resolved_tmp_dir.mkdir(parents=True, exist_ok=True)
    return Context(settings, get_engine(settings.resolved_db_url), make_storage(settings))


def context_for(settings: Settings) -> Context:
    """One context per distinct settings and process (the API process and each job worker)."""
    return _context(settings.model_dump_json())


def forget_connections_after_fork() -> None:
    """In a forked child: new engines and storage clients, none shared with the parent."""
    forget_engines_after_fork()
    _context.cache_clear()
