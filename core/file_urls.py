"""Signed, expiring URLs for objects in local storage, like S3's presigned GETs.

`/files/<key>?expires=<unix time>&sig=<HMAC-SHA256(key, expires)>`: knowing a job id (it is in every
key) no longer opens its files; only a URL the API handed out does, and only for a while."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import time
from collections.abc import Callable

from core.errors import FitroomError

# Expiry is rounded up to a multiple of this: every row presented within one bucket gets the same URL,
# so browsers (and the viewers' loaders) reuse their cached copy instead of fetching it again under a
# new query string each poll. A URL thus lives between `expiry_s` and `expiry_s + BUCKET_S`.
BUCKET_S = 300
WAIT_MAX_S = 600  # the longest a request for an object not yet stored is held (`wait=`; a job's time limit)


class BadSignature(FitroomError):
    """No signature, or one this server did not make for this key and expiry."""

    status_code = 403


class UrlExpired(FitroomError):
    """A signature this server made, but past its time: fetch the row again for a fresh URL.
    Gone (410) rather than 403, so that a client can tell "ask again" from "never yours"."""

    status_code = 410


class FileUrlSigner:
    def __init__(self, key: bytes, expiry_s: int, clock: Callable[[], float] = time.time) -> None:
        self.key = key
        self.expiry_s = expiry_s
        self.clock = clock

    def _sig(self, key: str, expires: int) -> str:
        mac = hmac.new(self.key, f"{key}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def query(self, key: str) -> str:
        """The query string that opens `key` until the end of the bucket after now + expiry."""
        expires = math.ceil((self.clock() + self.expiry_s) / BUCKET_S) * BUCKET_S
        return f"expires={expires}&sig={self._sig(key, expires)}"

    def check(self, key: str, expires: str | None, sig: str | None) -> int:
        """Seconds the URL has left; raises BadSignature or UrlExpired. The signature is checked
        first, so a refusal says nothing about whether the key exists."""
        if not expires or not sig or not expires.isascii() or not expires.isdigit() or len(expires) > 12:
            raise BadSignature("This file URL is not signed; use the URL the API returned.")
        if not hmac.compare_digest(self._sig(key, int(expires)).encode(), sig.encode("utf-8", "replace")):
            raise BadSignature("This file URL's signature is not valid.")
        left = int(expires) - self.clock()
        if left <= 0:
            raise UrlExpired("This file URL has expired; fetch the item again for a fresh URL.")
        return math.ceil(left)
