"""The server's one secret, and the per-purpose keys derived from it.

SECRET_KEY when set (several API processes must share it), else a random key made once and kept in
DATA_DIR (mode 0600), so that tokens and signed URLs outlive a restart. Each use derives its own
key (HMAC of the secret with the purpose's name): a file-URL signature is never a valid token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from core.config import Settings

SECRET_FILE = "server-secret"


@lru_cache(maxsize=8)
def _kept_secret(data_dir: Path) -> bytes:
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: two processes starting at once agree on the first one's key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32))
        except FileExistsError:
            pass
    return path.read_text().strip().encode()


def server_secret(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.get_secret_value().encode()
    return _kept_secret(settings.data_dir.resolve())


def derived_key(settings: Settings, purpose: str) -> bytes:
    """The key for one purpose ("token", "file-url", …)."""
    return hmac.new(server_secret(settings), f"fitroom/{purpose}".encode(), hashlib.sha256).digest()
