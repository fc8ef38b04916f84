"""What follows a job once it is done and shown: a garment's thumbnail, OBJ zip and turntable, a
fitting's thumbnail. Nobody waits for them: a failure is said in the row and the job stays done."""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.context import Context
from core.db import session_scope
from core.models import DONE, Cloth3D, FittingSession, utcnow

log = logging.getLogger("fitroom.jobs")
Extras = tuple[dict[str, tuple[bytes, str]], dict[str, float], dict]  # {column: (data, type)}, timings, notes


def store_extras(ctx: Context, table: type[Cloth3D] | type[FittingSession], job_id: str,
                 keys: dict[str, str], make: Callable[[], Extras]) -> None:
    """Make a done job's extras, store them under their `keys` (the row's columns) and point the
    row at them; its `extras` then says done. A picture that could not be drawn (b"") gets no key.
    A failure is logged and said in the row (`error`). `notes` join the row's stats (a garment) or
    metrics (a fitting)."""
    record = "stats" if table is Cloth3D else "metrics"
    try:
        objects, timings, notes = make()
        stored = {}
        for column, (data, content_type) in objects.items():
            if data:
                ctx.storage.put_bytes(keys[column], data, content_type)
                stored[column] = keys[column]
        with session_scope(ctx.engine) as s:
            row = s.get(table, job_id)
            if row is None or row.status != DONE:
                return
            for column, key in stored.items():
                setattr(row, column, key)
            row.timings = {**(row.timings or {}), **timings}
            setattr(row, record, {**(getattr(row, record) or {}), **notes})
            row.updated_at = utcnow()
            s.add(row)
            s.commit()
    except Exception:
        log.exception("job %s: its extras failed", job_id)
        with session_scope(ctx.engine) as s:  # said in the record: they are not coming
            row = s.get(table, job_id)
            if row is not None:
                setattr(row, record, {**(getattr(row, record) or {}), "extras": "error"})
                s.add(row)
                s.commit()
