"""Shared fixtures: isolated settings, drawn photos, real servers on 127.0.0.1 (moto S3, PostgreSQL,
Redis, the app)."""

from __future__ import annotations

import glob
import io
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from core.config import Settings
from core.samples import draw_garment

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 120.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not come up in {timeout} s")


def photo_bytes(category: str = "top", fmt: str = "JPEG", **kwargs) -> bytes:
    img, _ = draw_garment(category, **kwargs)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def auth_headers(base: str) -> dict[str, str]:
    """The header of a new anonymous user of the app at `base` (a token from POST /auth/token)."""
    r = requests.post(f"{base}/auth/token", timeout=10)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def authorize(client):
    """A FastAPI TestClient that calls as a new anonymous user from now on."""
    client.headers["Authorization"] = f"Bearer {client.post('/auth/token').json()['token']}"
    return client


def authed_session(base: str) -> requests.Session:
    """A requests session that calls as a new anonymous user of the app at `base`."""
    session = requests.Session()
    session.headers.update(auth_headers(base))
    return session


def new_caller(service, client: str | None = "127.0.0.1"):
    """A new anonymous user of `service`, as the faces pass it on."""
    from core.identity import Caller

    user_id, _token = service.identity.issue()
    return Caller(user_id, client)


class AsCaller:
    """The service as one caller sees it: each operation gets this `caller` unless the test names one."""

    KEYWORD = frozenset({"upload_image", "upload_garment_3d", "generate_3d", "create_avatar", "fit", "get_result",
               "local_files"})
    FIRST = frozenset({"list_garments", "list_fittings", "list_presets"})

    def __init__(self, service, caller) -> None:
        self.service, self.caller = service, caller

    def __getattr__(self, name: str):
        attr = getattr(self.service, name)
        if name in self.KEYWORD:
            return lambda *a, **kw: attr(*a, **({"caller": self.caller} | kw))
        if name in self.FIRST:
            from core.identity import Caller

            return lambda *a, **kw: attr(*a, **kw) if a and isinstance(a[0], Caller) else attr(self.caller, *a, **kw)
        return attr


def pytest_generate_tests(metafunc) -> None:
    """Tests marked `both_dbs` run once on SQLite and once on PostgreSQL."""
    if metafunc.definition.get_closest_marker("both_dbs") and "db_url" in metafunc.fixturenames:
        metafunc.parametrize("db_url", ["sqlite", "postgres"], indirect=True)


def server_binary(name: str, reason: str) -> str:
    """A server's binary from PATH (or Debian's PostgreSQL folder); skip only where it is absent."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)),
                                       None)
    if not found:
        message = f"{name} is not installed ({reason}); scripts/setup.sh installs it as root"
        if os.environ.get("FITROOM_REQUIRE_SERVERS") == "1":  # CI: a missing server is a failure
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (trust auth, no fsync); yields its base URL."""
    initdb = server_binary("initdb", "apt-get install postgresql")
    pg_ctl = server_binary("pg_ctl", "apt-get install postgresql")
    root = Path(tempfile.mkdtemp(prefix="fitroom-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root: run it as an unprivileged user
        user = "postgres" if any(p.pw_name == "postgres" for p in pwd.getpwall()) else "nobody"
        shutil.chown(root, user)
        as_user = ["runuser", "-u", user, "--"]
    port = free_port()
    data = root / "db"
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", "fitroom", "--auth=trust", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True)
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "60", "-o",
                    f"-h 127.0.0.1 -p {port} -k {root} -F -c max_connections=300", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://fitroom@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def new_pg_database(server: str) -> str:
    """A fresh, empty database on the test cluster: each test starts from nothing."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


@pytest.fixture
def db_url(request) -> str:
    """"" (the default SQLite file under DATA_DIR) unless parametrized to postgres."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return ""
    return new_pg_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", job_workers=1, db_url=db_url)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A throwaway Redis server on 127.0.0.1 (no persistence); yields its URL."""
    binary = server_binary("redis-server", "apt-get install redis-server")
    port = free_port()
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.1)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory) -> Iterator[str]:
    """moto's standalone S3 server in its own process, on loopback."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/moto-api/", proc=proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


# The whole suite calls from 127.0.0.1: per-address limits sized for it (tests/test_quotas_live.py
# checks the defaults and tight ones on apps of its own).
SUITE_QUOTAS = {"QUOTA_TOKENS_PER_HOUR": "100000", "QUOTA_JOBS_IN_FLIGHT": "100",
                "QUOTA_ADDRESS_JOBS_IN_FLIGHT": "1000", "QUOTA_UPLOADS_PER_HOUR": "100000",
                "QUOTA_UPLOAD_MB_PER_HOUR": "100000", "QUOTA_ADDRESS_UPLOADS_PER_HOUR": "100000",
                "QUOTA_ADDRESS_UPLOAD_MB_PER_HOUR": "100000", "QUOTA_CUSTOM_AVATARS_PER_HOUR": "1000",
                "QUOTA_ADDRESS_CUSTOM_AVATARS_PER_HOUR": "1000"}


def start_app(data_dir: Path, extra_env: dict[str, str] | None = None, port: int | None = None,
              new_session: bool = False) -> tuple[subprocess.Popen, str]:
    """`python app.py` on loopback; `new_session` puts it and its workers in their own process group."""
    port = port or free_port()
    env = os.environ | {"DATA_DIR": str(data_dir), "PORT": str(port), "HOST": "127.0.0.1",
                        "JOB_WORKERS": "2", "LOG_LEVEL": "WARNING"} | SUITE_QUOTAS | (extra_env or {})
    log = open(data_dir.parent / f"app-{port}.log", "a")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=new_session)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz", timeout=240, proc=proc)  # 503 until its workers are warm: tens of s when loaded
    return proc, base


@contextmanager
def running_app(data_dir: Path, extra_env: dict[str, str] | None = None, stop_s: float = 30) -> Iterator[str]:
    """The app started on `data_dir` (made if need be) for the block, its base URL; stopped after."""
    data_dir.mkdir(parents=True, exist_ok=True)
    proc, base = start_app(data_dir, extra_env)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(stop_s)


@pytest.fixture(scope="session")
def live_app_dir(tmp_path_factory) -> Path:
    """The data folder of `live_app` (tests look at its database and objects)."""
    data = tmp_path_factory.mktemp("app") / "data"
    data.mkdir()
    return data


@pytest.fixture(scope="session")
def live_app(live_app_dir: Path) -> Iterator[str]:
    """The real app (`python app.py`) on a free port with its own data folder."""
    with running_app(live_app_dir) as base:
        yield base
