"""Object storage: one interface, a local folder (default) and S3/MinIO through boto3."""

from __future__ import annotations

import re
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Protocol

from core.config import Settings
from core.errors import NotFound, Unavailable
from core.file_urls import FileUrlSigner
from core.secrets import subkey

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


def write_atomic(path: Path, data: bytes) -> None:
    """Readers never see half a file, and concurrent writers of one key never share a part file
    (with a shared name the second writer's rename found its part already moved)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.part")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def check_key(key: str) -> str:
    """Keys are made by the service, but are checked anyway: no traversal, no odd characters."""
    if not _KEY_RE.fullmatch(key) or ".." in key.split("/") or len(key) > 512:
        raise NotFound(f"no such object: {key!r}")
    return key


class Storage(Protocol):
    def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def url(self, key: str) -> str: ...
    def url_when_stored(self, key: str, wait_s: int) -> str | None: ...
    def local_path(self, key: str) -> Path: ...
    def check(self) -> None: ...


class LocalStorage:
    """Objects as files under one root; the app serves them at `/files/<key>?expires=…&sig=…`."""

    def __init__(self, root: Path, signer: FileUrlSigner, url_prefix: str = "/files") -> None:
        self.root = root.resolve()
        self.signer = signer
        self.url_prefix = url_prefix
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise NotFound(f"no such object: {key!r}")
        return path

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        try:
            write_atomic(self._path(key), data)
        except OSError as exc:  # a full or read-only disk: the caller gets a 503, not a 500
            raise Unavailable(f"local storage write failed: {exc.strerror or exc}") from exc

    def get_bytes(self, key: str) -> bytes:
        return self.local_path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def url(self, key: str) -> str:
        return f"{self.url_prefix}/{check_key(key)}?{self.signer.query(key)}"

    def url_when_stored(self, key: str, wait_s: int) -> str | None:
        """`url`, but answered once the object is stored (within `wait_s`, the app's /files route
        holds the request till then): a viewer asks for a job's model as the job starts and
        receives it the moment it is written."""
        return f"{self.url(key)}&wait={int(wait_s)}"

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise NotFound(f"no such object: {key!r}")
        return path

    def check(self) -> None:
        probe = self.root / f".healthz-{uuid.uuid4().hex}"  # health checks may run side by side
        try:
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise Unavailable(f"local storage is not writable: {exc}") from exc


class S3Storage:
    """S3 or MinIO through boto3; URLs are presigned GETs that expire."""

    def __init__(self, settings: Settings) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = settings.s3_bucket
        self.expiry = settings.presign_expiry_s
        self.cache = settings.cache_dir / "s3"
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint,
            aws_access_key_id=settings.s3_key,
            aws_secret_access_key=settings.s3_secret,
            region_name=settings.s3_region,
            config=Config(signature_version="s3v4", connect_timeout=5, read_timeout=30,
                          retries={"max_attempts": 2},
                          s3={"addressing_style": "path"}),
        )
        self._bucket_ready = False

    def _errors(self):
        from botocore.exceptions import BotoCoreError, ClientError

        return BotoCoreError, ClientError

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        boto_error, client_error = self._errors()
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except client_error:
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except (boto_error, client_error) as exc:
                raise Unavailable(f"object storage: cannot create bucket {self.bucket!r}: {exc}") from exc
        except boto_error as exc:
            raise Unavailable(f"object storage is unreachable: {exc}") from exc
        self._bucket_ready = True

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self._ensure_bucket()
        try:
            self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data,
                                   ContentType=content_type)
        except self._errors() as exc:
            raise Unavailable(f"object storage write failed: {exc}") from exc

    def get_bytes(self, key: str) -> bytes:
        boto_error, client_error = self._errors()
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=check_key(key))
            return obj["Body"].read()
        except client_error as exc:
            # a bucket not made yet (a first start, before anything was written) holds no object either
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "NoSuchBucket", "404"):
                raise NotFound(f"no such object: {key!r}") from exc
            raise Unavailable(f"object storage read failed: {exc}") from exc
        except boto_error as exc:
            raise Unavailable(f"object storage is unreachable: {exc}") from exc

    def exists(self, key: str) -> bool:
        boto_error, client_error = self._errors()
        try:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
            return True
        except client_error:
            return False
        except boto_error as exc:
            raise Unavailable(f"object storage is unreachable: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=check_key(key))
        except self._errors() as exc:
            raise Unavailable(f"object storage delete failed: {exc}") from exc

    def url(self, key: str) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": check_key(key)},
            ExpiresIn=self.expiry)

    def url_when_stored(self, key: str, wait_s: int) -> str | None:
        """None: a presigned GET answers at once (404 before the object is put)."""
        return None

    def local_path(self, key: str) -> Path:
        """A local copy for viewers and the pipeline; objects are immutable, so the cache is safe."""
        path = self.cache / check_key(key)
        if not path.is_file():
            write_atomic(path, self.get_bytes(key))
        return path

    def check(self) -> None:
        self._bucket_ready = False
        self._ensure_bucket()


def make_storage(settings: Settings) -> Storage:
    """The one place a backend is chosen."""
    if settings.s3_endpoint:
        return S3Storage(settings)
    signer = FileUrlSigner(subkey(settings, "file-url"), settings.presign_expiry_s)
    return LocalStorage(settings.objects_dir, signer)

