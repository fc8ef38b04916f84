"""Quotas: each limit refuses with 429 and a Retry-After once passed, not before; per-user figures
come from the database (SQLite and PostgreSQL), per-address ones from a bounded in-memory window that
forgets after the hour. The clock is injected: nothing here sleeps."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from core.context import context_for
from core.db import init_db, session_scope
from core.errors import TooManyRequests
from core.models import DONE, PROCESSING, AvatarPreset, Cloth, Cloth3D, FittingSession, new_id
from core.quotas import MAX_USERS_PER_ADDRESS, WINDOW_S, Quotas, SlidingWindows, address_key

MB = 2**20
ADDR = "203.0.113.7"


class Clock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))  # whole seconds: the stored times are exact

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_quotas(settings, clock: Clock, **limits) -> Quotas:
    settings = settings.model_copy(update=limits)
    engine = context_for(settings).engine
    init_db(engine)
    return Quotas(settings, engine, clock=clock)


def at(clock: Clock, ago_s: float) -> datetime:
    return datetime.fromtimestamp(clock.now - ago_s, UTC)


def insert(settings, *rows) -> None:
    with session_scope(context_for(settings).engine) as s:
        s.add_all(rows)
        s.commit()


def job_rows(user: str, status: str = PROCESSING, **kw) -> list:
    """One job of each kind for `user`."""
    return [Cloth3D(cloth_id="c", user_id=user, status=status, **kw),
            FittingSession(user_id=user, cloth3d_id="g", avatar_preset_id="a", status=status, **kw),
            AvatarPreset(slug=new_id(), name="c", height_cm=170, gender="female", is_custom=True,
                         user_id=user, status=status, **kw)]


def refused(check, *args) -> TooManyRequests:
    with pytest.raises(TooManyRequests) as info:
        check(*args)
    assert info.value.status_code == 429 and info.value.retry_after_s >= 1
    return info.value


# -- per user, from the database ----------------------------------------------------------------------
@pytest.mark.both_dbs
def test_jobs_in_flight_per_user(settings, clock) -> None:
    q = make_quotas(settings, clock)  # 3 a user
    insert(settings, *job_rows("alice", DONE), *job_rows("alice", "error"), *job_rows("bob")[:1])
    insert(settings, *job_rows("alice", created_at=at(clock, 8))[:2])
    q.check_job("alice", None)  # two in flight: ended jobs and bob's do not count
    insert(settings, job_rows("alice", created_at=at(clock, 2))[2])  # a custom avatar being built
    err = refused(q.check_job, "alice", ADDR)
    assert str(err) == "You have 3 jobs queued or running; the limit is 3. Try again in about 12 s."
    assert err.retry_after_s == 12  # the oldest, 8 s old, is expected to end in 12 s
    q.check_job("bob", ADDR)


@pytest.mark.both_dbs
def test_jobs_in_flight_per_address(settings, clock) -> None:
    q = make_quotas(settings, clock, quota_address_jobs_in_flight=4)
    for user in ("u1", "u2"):
        q.check_job(user, ADDR)  # seen from the address as they submit
        insert(settings, *job_rows(user, created_at=at(clock, 100))[:2])
    err = refused(q.check_job, "u3", ADDR)
    assert "Your network address has 4 jobs" in str(err) and err.retry_after_s == 5  # past typical: a quarter
    q.check_job("u3", "198.51.100.1")  # another address
    clock.now += WINDOW_S + 1  # u1 and u2 not seen for an hour: no longer counted for the address
    q.check_job("u3", ADDR)


@pytest.mark.both_dbs
def test_custom_avatars_per_hour(settings, clock) -> None:
    q = make_quotas(settings, clock)  # 5 a user an hour
    old = AvatarPreset(slug="old", name="c", height_cm=170, gender="male", is_custom=True, user_id="alice",
                       status=DONE, created_at=at(clock, WINDOW_S + 5))
    preset = AvatarPreset(slug="p", name="p", height_cm=170, gender="male", user_id="alice", created_at=at(clock, 1))
    made = [AvatarPreset(slug=f"a{i}", name="c", height_cm=170, gender="male", is_custom=True, user_id="alice",
                         status=DONE, created_at=at(clock, 3000 - 100 * i)) for i in range(4)]
    insert(settings, old, preset, *made)
    q.check_avatar("alice", ADDR)  # four in the hour
    insert(settings, AvatarPreset(slug="a5", name="c", height_cm=170, gender="male", is_custom=True,
                                  user_id="alice", status="error", created_at=at(clock, 10)))
    err = refused(q.check_avatar, "alice", ADDR)
    assert err.retry_after_s == 600  # when the first of the five leaves the hour
    assert str(err) == ("You made 5 custom avatars in the last hour; the limit is 5 an hour. "
                        "Try again in about 10 min.")
    q.check_avatar("bob", ADDR)
    clock.now += 600
    q.check_avatar("alice", ADDR)


@pytest.mark.both_dbs
def test_uploads_per_hour_count_photos_and_imports(settings, clock) -> None:
    q = make_quotas(settings, clock, quota_uploads_per_hour=3)
    insert(settings, Cloth(user_id="alice", image_key="k", size_bytes=1000, created_at=at(clock, 2000)),
           Cloth3D(user_id="alice", model_requested="import", status=DONE, created_at=at(clock, 1000)),
           Cloth3D(user_id="alice", model_requested="auto", created_at=at(clock, 10)),  # a job, not an upload
           Cloth(user_id="alice", image_key="k", size_bytes=1000, created_at=at(clock, WINDOW_S + 1)))
    q.check_upload("alice", None, 1000)
    insert(settings, Cloth(user_id="alice", image_key="k", size_bytes=1000, created_at=at(clock, 5)))
    err = refused(q.check_upload, "alice", None, 1000)
    assert str(err) == "You uploaded 3 files in the last hour; the limit is 3 files an hour. Try again in about 27 min."
    assert err.retry_after_s == 1600


@pytest.mark.both_dbs
def test_upload_bytes_per_hour(settings, clock) -> None:
    q = make_quotas(settings, clock, quota_upload_mb_per_hour=10)
    insert(settings, *(Cloth(user_id="alice", image_key="k", size_bytes=3 * MB, created_at=at(clock, ago))
                       for ago in (3000, 2000, 1000)))
    q.check_upload("alice", None, MB)  # 9 + 1 MB: at the limit, not past it
    err = refused(q.check_upload, "alice", None, 2 * MB)
    assert err.retry_after_s == 600 and "You uploaded 9 MB in the last hour; the limit is 10 MB" in str(err)
    err = refused(q.check_upload, "alice", None, 6 * MB)  # two of the three must leave first
    assert err.retry_after_s == 1600
    q.check_upload("bob", None, 10 * MB)


# -- per address, in memory -------------------------------------------------------------------------------
def test_new_identities_per_address_and_the_window_forgets(settings, clock) -> None:
    q = make_quotas(settings, clock)  # 30 an address an hour
    for _ in range(30):
        q.check_token(ADDR)
        clock.now += 10
    err = refused(q.check_token, ADDR)
    assert err.retry_after_s == WINDOW_S - 300 and "given 30 new identities" in str(err)
    q.check_token("198.51.100.1")
    q.check_token(None)  # no address, nothing to count by
    clock.now += WINDOW_S - 300
    q.check_token(ADDR)  # the first left the window
    refused(q.check_token, ADDR)  # the second is still in it
    clock.now += WINDOW_S
    for _ in range(30):
        q.check_token(ADDR)


def test_uploads_and_avatars_per_address(settings, clock) -> None:
    q = make_quotas(settings, clock, quota_address_uploads_per_hour=100, quota_address_upload_mb_per_hour=5,
                    quota_address_custom_avatars_per_hour=2)
    for user in ("u1", "u2"):  # different users behind one address
        q.check_upload(user, ADDR, 2 * MB)
        q.check_avatar(user, ADDR)
        clock.now += 1
    err = refused(q.check_upload, "u3", ADDR, 2 * MB)
    assert err.retry_after_s == WINDOW_S - 2 and "Your network address uploaded 4 MB" in str(err)
    q.check_upload("u3", ADDR, MB)  # what fits still goes
    assert "Your network address made 2 custom avatars" in str(refused(q.check_avatar, "u3", ADDR))
    q.check_upload("u3", "198.51.100.1", 2 * MB)


def test_a_refused_event_is_not_counted(clock) -> None:
    w = SlidingWindows(16, clock)
    assert w.take("a", 2) == (0.0, 0, 0.0)
    assert w.take("a", 2) == (0.0, 1, 1.0)
    assert w.take("a", 2)[0] == WINDOW_S
    assert len(w.events["a"]) == 2


def test_the_address_tables_are_bounded(settings, clock) -> None:
    w = SlidingWindows(16, clock)
    for i in range(1000):
        w.take(f"10.0.{i // 256}.{i % 256}", 5)
    assert len(w.events) == 16 and "10.0.3.231" in w.events  # the most recent kept
    q = make_quotas(settings, clock, quota_addresses=16)
    for i in range(100):
        q.check_job(f"user{i}", f"10.1.0.{i}")
    assert len(q.users) == 16
    for i in range(MAX_USERS_PER_ADDRESS + 50):
        q.check_job(f"user{i}", ADDR)
    assert len(q.users[ADDR]) == MAX_USERS_PER_ADDRESS


def test_ipv6_is_counted_by_its_network() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:203.0.113.7") == address_key(ADDR) == ADDR
    assert address_key("[2001:db8::1]") == "2001:db8::/64"
    assert address_key("not an address") == "not an address"


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert TooManyRequests("x", 0.001).retry_after_s == 1
    assert TooManyRequests("x", 12.1).retry_after_s == 13
