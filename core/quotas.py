"""Per-client quotas, so that one client cannot take the service down: a bounded number of jobs queued
or running, custom avatars, uploads (by count and by bytes) and new anonymous identities per hour.

Per user, the figures are counted from the database, so they hold across API processes and Celery
workers. Per client address they are counted in this process's memory (`SlidingWindows`): with several
API processes each one counts its own share, so an address may reach a limit once per process. An
address is shared by everyone behind one NAT, so its limits are set higher than a user's; IPv6
addresses are counted by their /64 network, which one client holds whole.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import literal, union_all
from sqlalchemy.engine import Engine
from sqlmodel import select

from core.config import Settings
from core.db import session_scope
from core.errors import TooManyRequests
from core.models import JOB_TABLES, PROCESSING, AvatarPreset, Cloth, Cloth3D

WINDOW_S = 3600.0  # every "per hour" limit is over the last hour, sliding
MAX_USERS_PER_ADDRESS = 256  # users remembered per address, for its jobs in flight
MB = 2**20


def wait_s(times: np.ndarray, weights: np.ndarray, now: float, max_count: int, max_weight: float,
           weight: float, window_s: float = WINDOW_S) -> float:
    """Seconds until one more event of `weight` fits under both limits, 0 when it fits now. `times`
    (oldest first) and `weights` are the events still in the window. A window emptied takes any event,
    however heavy: the size of one upload is bounded elsewhere."""
    n = len(times)
    drop = max(0, n + 1 - max_count)  # the oldest events that must leave the window first
    total = float(weights.sum()) if n else 0.0
    if n and total + weight > max_weight:
        need = total + weight - max_weight  # weight that must leave
        drop = max(drop, int(np.searchsorted(np.cumsum(weights), need, side="left")) + 1)
    if not drop:
        return 0.0
    return max(float(times[min(drop, n) - 1]) + window_s - now, 1e-3)  # an event in the window has time left


def about(seconds: float) -> str:
    """A wait as a person says it."""
    return f"about {math.ceil(seconds)} s" if seconds < 90 else f"about {math.ceil(seconds / 60)} min"


def address_key(client: str) -> str:
    """The key an address is counted under: an IPv6 address by its /64 network (a client holds a whole
    /64, and would otherwise have 2**64 fresh counters), anything else as given."""
    try:
        ip = ipaddress.ip_address(client.strip("[]"))
    except ValueError:
        return client[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ip.ipv4_mapped or ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class SlidingWindows:
    """Weighted events per key over the last `window_s`, in this process's memory (thread-safe).

    Bounded: at most `max_keys` keys, the least recently used forgotten first (a forgotten key starts
    again from nothing), and a key never holds more events than the limit it is checked against."""

    def __init__(self, max_keys: int, clock: Callable[[], float] = time.time, window_s: float = WINDOW_S) -> None:
        self.max_keys, self.clock, self.window_s = max_keys, clock, window_s
        self.events: OrderedDict[str, deque[tuple[float, float]]] = OrderedDict()
        self.lock = threading.Lock()

    def take(self, key: str, max_count: int, max_weight: float = math.inf,
             weight: float = 1.0) -> tuple[float, int, float]:
        """Count one event of `weight` for `key` unless it would pass a limit. Returns (seconds until
        it would fit, 0 when it was counted; events in the window; their total weight), both before
        this event."""
        now = self.clock()
        with self.lock:
            events = self.events.pop(key, None) or deque()
            while events and events[0][0] <= now - self.window_s:
                events.popleft()
            times, weights = np.array(events, dtype=float).reshape(-1, 2).T
            wait = wait_s(times, weights, now, max_count, max_weight, weight, self.window_s)
            if not wait:
                events.append((now, weight))
            if events:  # back in as the most recent key
                self.events[key] = events
                while len(self.events) > self.max_keys:
                    self.events.popitem(last=False)
            return wait, len(times), float(weights.sum())


class Quotas:
    """The checks the service makes before it does work for a client; each raises TooManyRequests
    with a Retry-After when the work would pass a limit, and counts nothing then.

    `user_id` is the caller's user id; `client` its network address (None: not known, e.g. a call
    from inside the process; the per-address limits are then skipped)."""

    def __init__(self, settings: Settings, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.settings, self.engine, self.clock = settings, engine, clock
        n = settings.quota_addresses
        self.avatars, self.uploads, self.tokens, self.transfers = (SlidingWindows(n, clock) for _ in range(4))
        self.users: OrderedDict[str, OrderedDict[str, float]] = OrderedDict()  # address -> user -> last seen
        self.lock = threading.Lock()

    # -- checks -------------------------------------------------------------------------------------
    def check_job(self, user_id: str, client: str | None) -> None:
        """Before any job is queued: the user's, and its address's, jobs queued or running."""
        s = self.settings
        users = self._seen(address_key(client), user_id) if client else [user_id]
        rows = self._in_flight(users)
        mine = [t for u, t in rows if u == user_id]
        if len(mine) >= s.quota_jobs_in_flight:
            wait = self._job_wait(mine)
            raise TooManyRequests(f"You have {len(mine)} jobs queued or running; the limit is "
                                  f"{s.quota_jobs_in_flight}. Try again in {about(wait)}.", wait)
        if client and len(rows) >= s.quota_address_jobs_in_flight:
            wait = self._job_wait([t for _, t in rows])
            raise TooManyRequests(f"Your network address has {len(rows)} jobs queued or running; the limit "
                                  f"is {s.quota_address_jobs_in_flight}. Try again in {about(wait)}.", wait)

    def check_avatar(self, user_id: str, client: str | None) -> None:
        """Before a custom avatar is built (after check_job): custom avatars made in the last hour."""
        s, now = self.settings, self.clock()
        with session_scope(self.engine) as db:
            times = db.exec(select(AvatarPreset.created_at)
                            .where(AvatarPreset.user_id == user_id, AvatarPreset.is_custom,
                                   AvatarPreset.created_at > self._since(now))
                            .order_by(AvatarPreset.created_at)).all()
        stamps = np.array([t.timestamp() for t in times], dtype=float)
        if wait := wait_s(stamps, np.ones(len(stamps)), now, s.quota_custom_avatars_per_hour, math.inf, 1.0):
            raise TooManyRequests(f"You made {len(stamps)} custom avatars in the last hour; the limit is "
                                  f"{s.quota_custom_avatars_per_hour} an hour. Try again in {about(wait)}.", wait)
        if client:
            wait, n, _ = self.avatars.take(address_key(client), s.quota_address_custom_avatars_per_hour)
            if wait:
                raise TooManyRequests(f"Your network address made {n} custom avatars in the last hour; the limit "
                                      f"is {s.quota_address_custom_avatars_per_hour} an hour. Try again in "
                                      f"{about(wait)}.", wait)

    def check_upload(self, user_id: str, client: str | None, nbytes: int) -> None:
        """Before an upload (a photo or a 3D import) of `nbytes` is stored: uploads and their bytes in
        the last hour. A photo's bytes are its row's size_bytes; an import's are not stored, so an
        import counts as an upload but adds no bytes to the user's figure (its address counts them)."""
        s, now = self.settings, self.clock()
        since = self._since(now)
        photos = select(Cloth.created_at, Cloth.size_bytes.label("nbytes")).where(
            Cloth.user_id == user_id, Cloth.created_at > since)
        imports = select(Cloth3D.created_at, literal(0).label("nbytes")).where(
            Cloth3D.user_id == user_id, Cloth3D.model_requested == "import", Cloth3D.created_at > since)
        with session_scope(self.engine) as db:
            rows = db.exec(union_all(photos, imports).order_by("created_at")).all()  # type: ignore[call-overload]
        stamps = np.array([r[0].timestamp() for r in rows], dtype=float)
        sizes = np.array([r[1] for r in rows], dtype=float)
        self._refuse_upload("You", wait_s(stamps, sizes, now, s.quota_uploads_per_hour, s.quota_upload_mb_per_hour * MB,
                                          nbytes), len(stamps), float(sizes.sum()), s.quota_uploads_per_hour,
                            s.quota_upload_mb_per_hour)
        if client:
            wait, n, total = self.uploads.take(address_key(client), s.quota_address_uploads_per_hour,
                                               s.quota_address_upload_mb_per_hour * MB, nbytes)
            self._refuse_upload("Your network address", wait, n, total, s.quota_address_uploads_per_hour,
                                s.quota_address_upload_mb_per_hour)

    def check_transfer(self, client: str | None, nbytes: int) -> None:
        """Before Gradio's upload route takes a body of `nbytes` (the page's files reach the service
        only later, through an event): files and bytes per address in the last hour."""
        if not client:
            return
        s = self.settings
        wait, n, total = self.transfers.take(address_key(client), s.quota_address_uploads_per_hour,
                                             s.quota_address_upload_mb_per_hour * MB, nbytes)
        self._refuse_upload("Your network address", wait, n, total, s.quota_address_uploads_per_hour,
                            s.quota_address_upload_mb_per_hour)

    def check_token(self, client: str | None) -> None:
        """Before a new anonymous identity is issued: identities issued to this address in the last hour."""
        if not client:
            return
        limit = self.settings.quota_tokens_per_hour
        wait, n, _ = self.tokens.take(address_key(client), limit)
        if wait:
            raise TooManyRequests(f"Your network address was given {n} new identities in the last hour; the "
                                  f"limit is {limit} an hour. Try again in {about(wait)}.", wait)

    # -- helpers ------------------------------------------------------------------------------------
    @staticmethod
    def _since(now: float) -> datetime:
        return datetime.fromtimestamp(now - WINDOW_S, UTC)

    @staticmethod
    def _refuse_upload(who: str, wait: float, n: int, total: float, max_count: int, max_mb: float) -> None:
        if not wait:
            return
        what = f"{n} files" if n + 1 > max_count else f"{total / MB:.0f} MB"
        limit = f"{max_count} files" if n + 1 > max_count else f"{max_mb:g} MB"
        raise TooManyRequests(f"{who} uploaded {what} in the last hour; the limit is {limit} an hour. "
                              f"Try again in {about(wait)}.", wait)

    def _seen(self, address: str, user_id: str) -> list[str]:
        """Note that `user_id` calls from `address`; returns the users seen there in the last hour."""
        now = self.clock()
        with self.lock:
            users = self.users.pop(address, None) or OrderedDict()
            users.pop(user_id, None)
            users[user_id] = now
            while len(users) > MAX_USERS_PER_ADDRESS or next(iter(users.values())) <= now - WINDOW_S:
                users.popitem(last=False)
            self.users[address] = users
            while len(self.users) > self.settings.quota_addresses:
                self.users.popitem(last=False)
            return list(users)

    def _in_flight(self, users: list[str]) -> list[tuple[str, float]]:
        """(user id, created at) of the jobs of `users` still queued or running, in every job table."""
        query = union_all(*(select(t.user_id, t.created_at).where(t.status == PROCESSING, t.user_id.in_(users))
                            for t in JOB_TABLES))
        with session_scope(self.engine) as db:
            return [(u, t.timestamp()) for u, t in db.exec(query).all()]  # type: ignore[call-overload]

    def _job_wait(self, created: list[float]) -> float:
        """When to try again: jobs end when they end, so this is a hint. A typical job takes about
        quota_job_retry_s; the oldest one is the nearest to its end, and past that it is asked after a
        quarter of it."""
        typical = self.settings.quota_job_retry_s
        return min(max(typical - (self.clock() - min(created)), typical / 4), typical)
