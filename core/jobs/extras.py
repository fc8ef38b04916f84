"""What follows a job once it is done and shown: a garment's thumbnail, OBJ zip and turntable, a
fitting's thumbnail. Nobody waits for them: a failure is said in the row and the job stays done."""

from __future__ import annotations

import contextvars
import logging
import os
import sys
import threading
from collections.abc import Callable

from core.context import Context
from core.db import session_scope
from core.models import DONE, Cloth3D, FittingSession, utcnow

log = logging.getLogger("fitroom.jobs")
Extras = tuple[dict[str, tuple[bytes, str]], dict[str, float], dict]  # {column: (data, type)}, timings, notes
NICER = 10  # how much lower a priority what follows a done job runs at than its job


def at_low_priority(then: Callable[[], None]) -> None:
    """Run what follows a done job, and wait for it, at a lower CPU priority than the job's: nobody
    waits for it, while the server showing the job (on one machine, the browser drawing it too) and
    the next jobs do. In a thread of its own (Linux sets a thread's niceness), since a process may
    raise its niceness but not lower it again: the worker's next job runs at the job's own."""
    failed: list[BaseException] = []

    def low() -> None:
        if sys.platform.startswith("linux"):  # elsewhere a thread's id names no process to renice
            me = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, me, min(os.getpriority(os.PRIO_PROCESS, me) + NICER, 19))
        try:
            then()
        except BaseException as exc:  # noqa: BLE001 - raised again in the job's own thread
            failed.append(exc)

    thread = threading.Thread(target=contextvars.copy_context().run, args=(low,), name="job-extras")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]


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
