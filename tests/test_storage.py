"""Both storage backends behave alike; S3 is exercised against moto's server over a real socket."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from core.config import Settings
from core.errors import NotFound, Unavailable
from core.file_urls import FileUrlSigner
from core.storage import LocalStorage, S3Storage, check_key, make_storage
from tests.conftest import free_port


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "objects", FileUrlSigner(b"k" * 32, 600))
    endpoint = request.getfixturevalue("moto_endpoint")
    return S3Storage(Settings(data_dir=tmp_path, s3_endpoint=endpoint, s3_key="test", s3_secret="test",
                              s3_bucket=f"b-{uuid.uuid4().hex[:12]}", presign_expiry_s=600))


def test_roundtrip(storage) -> None:
    storage.check()
    key = "clothes/abc/photo.jpg"
    assert not storage.exists(key)
    storage.put_bytes(key, b"hello", "image/jpeg")
    assert storage.exists(key)
    assert storage.get_bytes(key) == b"hello"
    assert storage.local_path(key).read_bytes() == b"hello"
    storage.delete(key)
    assert not storage.exists(key)
    with pytest.raises(NotFound):
        storage.get_bytes(key)


def test_concurrent_writers_and_readers_of_one_key(storage) -> None:
    """Job threads read the same photo at once (CI once lost a job to a shared part file); each
    gets the whole object and no part file is left behind."""
    key = "clothes/abc/photo.jpg"
    storage.put_bytes(key, b"v" * 100_000, "image/jpeg")
    start = threading.Barrier(8)

    def read_and_write(i: int) -> bytes:
        start.wait()
        storage.put_bytes("clothes/abc/same.bin", bytes([i]) * 50_000, "application/octet-stream")
        storage.check()
        return storage.local_path(key).read_bytes()

    for _ in range(5):
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(read_and_write, range(8))) == {b"v" * 100_000}
        if isinstance(storage, S3Storage):
            storage.local_path(key).unlink()  # the next round downloads again, all at once
    assert storage.get_bytes("clothes/abc/same.bin") in {bytes([i]) * 50_000 for i in range(8)}
    root = storage.root if isinstance(storage, LocalStorage) else storage.cache
    assert [p.name for p in root.rglob("*") if p.name.endswith(".part") or "healthz" in p.name] == []


@pytest.mark.parametrize("key", ["../etc/passwd", "a/../../b", "/abs/path", "a//b", "", "a/./b",
                                 "x" * 600, "a\\b", "ünï/cödé"])
def test_bad_keys_refused(storage, key) -> None:
    with pytest.raises(NotFound):
        storage.put_bytes(key, b"x", "text/plain")
    with pytest.raises(NotFound):
        check_key(key)


def test_s3_bucket_created_and_urls_presigned(moto_endpoint, tmp_path) -> None:
    bucket = f"fresh-{uuid.uuid4().hex[:10]}"
    s3 = S3Storage(Settings(data_dir=tmp_path, s3_endpoint=moto_endpoint, s3_key="k", s3_secret="s",
                            s3_bucket=bucket, presign_expiry_s=120))
    s3.put_bytes("a/b.txt", b"payload", "text/plain")
    assert bucket in [b["Name"] for b in s3.client.list_buckets()["Buckets"]]
    url = s3.url("a/b.txt")
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == ["120"]
    assert requests.get(url, timeout=10).content == b"payload"


def test_s3_unreachable_is_unavailable(tmp_path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    s3 = S3Storage(Settings(data_dir=tmp_path, s3_endpoint=dead, s3_key="k", s3_secret="s"))
    with pytest.raises(Unavailable):
        s3.check()
    with pytest.raises(Unavailable):
        s3.put_bytes("a/b", b"x", "text/plain")


def test_backend_chosen_by_settings(tmp_path, moto_endpoint) -> None:
    assert isinstance(make_storage(Settings(data_dir=tmp_path)), LocalStorage)
    assert isinstance(make_storage(Settings(data_dir=tmp_path, s3_endpoint=moto_endpoint)), S3Storage)
