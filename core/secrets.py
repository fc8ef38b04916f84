"""The server's one secret, and the per-purpose keys derived from it.

Everything that signs (file URLs, and later tokens) takes its key from `subkey(settings, purpose)`,
never from the secret itself: a signature made for one purpose is then never valid for another."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import uuid
from contextlib import suppress
from functools import lru_cache
from pathlib import Path

from core.config import Settings

SECRET_FILE = "secret_key"  # under DATA_DIR, mode 0600
SECRET_BYTES = 32


def server_secret(settings: Settings) -> bytes:
    """SECRET_KEY when set; else a random key made once and kept in DATA_DIR, so that signed URLs
    (and tokens) stay valid across restarts and are shared by every process on that folder."""
    if settings.secret_key:
        return settings.secret_key.encode()
    return _stored_secret(settings.data_dir.resolve() / SECRET_FILE)


def subkey(settings: Settings, purpose: str) -> bytes:
    """HMAC(secret, purpose): the key for one purpose, e.g. "file-url"."""
    return hmac.new(server_secret(settings), b"fitroom:" + purpose.encode(), hashlib.sha256).digest()


@lru_cache(maxsize=8)
def _stored_secret(path: Path) -> bytes:
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(SECRET_BYTES) + "\n")
        with suppress(FileExistsError):  # os.link is atomic and refused if another process made
            os.link(tmp, path)  # one first: theirs wins, and both read it below
    finally:
        tmp.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> bytes:
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < SECRET_BYTES:  # never replaced silently: that would void every URL and token
        raise RuntimeError(f"{path} does not hold a {SECRET_BYTES}-byte hex key; fix or delete it")
    return key
