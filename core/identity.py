"""Who is calling: identities the server issues, never ones a client claims.

Three kinds of user, each a row in the User table:
- anonymous: `issue()` makes the row and a token, `fr1.<user id>.<issued>.<signature>`, signed with a
  key derived from the server secret (stateless to check, but the row must still exist);
- api_key: an operator's key from API_KEYS ("name=key"), the user named by it;
- hf: a Hugging Face login on a Space (the page's `gr.Request.username`).
The faces turn what they receive (a Bearer header, a cookie, the page's state) into a `Caller` and
pass it to the service, which scopes every record and listing to `Caller.user_id`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass, replace
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from core.config import Settings
from core.db import session_scope
from core.errors import Forbidden, Unauthorized
from core.models import User
from core.secrets import subkey

TOKEN_PREFIX = "fr1"
NAMESPACE = uuid.UUID("6f1c1a52-3f3e-4d0e-9a55-2f1e0c0b7d11")  # user ids of named users (keys, logins)
ANONYMOUS, API_KEY, HF = "anonymous", "api_key", "hf"
HOW_TO = "Send 'Authorization: Bearer <token>'; POST /auth/token (or the Gradio API's new_token) gives one."


@dataclass(frozen=True)
class Caller:
    """A verified user, the address the request came from (for per-address limits), and the root URL
    it reached the app at: the records it gets back carry URLs absolute against it."""

    user_id: str
    client: str | None = None
    base_url: str = ""

    def at(self, base_url: str) -> Caller:
        """The same caller, as seen through the root URL its request came to."""
        return replace(self, base_url=base_url.rstrip("/"))

    def claim(self, user_id: str | None) -> None:
        """A request's old `user_id` field is accepted only where it names the caller (deprecated)."""
        if user_id and str(user_id).strip().lower() != self.user_id:
            raise Forbidden("user_id names another user; it is deprecated: the token says who you are.")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def named_user_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{name}"))


class Identity:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.engine = engine
        self.key = subkey(settings, "token")
        self.page_seal = Fernet(base64.urlsafe_b64encode(subkey(settings, "page-seal")))
        self.max_age_s = settings.token_max_age_days * 86400
        raw = settings.api_keys or ""
        pairs = [item.split("=", 1) for item in raw.split(",") if "=" in item]
        self.api_keys = {key.strip(): name.strip() for name, key in pairs if name.strip() and key.strip()}
        self._known = lru_cache(maxsize=4096)(self._user_exists)  # one row lookup per user and process

    # -- issuing ---------------------------------------------------------------------------------
    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self.key, body.encode(), hashlib.sha256).digest())

    def token_for(self, user_id: str, issued: int | None = None) -> str:
        body = f"{TOKEN_PREFIX}.{user_id}.{int(time.time()) if issued is None else issued}"
        return f"{body}.{self._sign(body)}"

    def issue(self) -> tuple[str, str]:
        """A new anonymous user: (user id, token)."""
        user = User(kind=ANONYMOUS)
        with session_scope(self.engine) as db:
            db.add(user)
            db.commit()
        return user.id, self.token_for(user.id)

    def _ensure(self, kind: str, name: str) -> str:
        user_id = named_user_id(kind, name)
        if not self._known(user_id):
            with session_scope(self.engine) as db:
                db.add(User(id=user_id, kind=kind, name=name[:200]))
                try:
                    db.commit()
                except IntegrityError:  # made by another request meanwhile
                    db.rollback()
            self._known.cache_clear()
        return user_id

    def for_login(self, username: str, client: str | None = None) -> Caller:
        """A Hugging Face user signed in to the Space."""
        return Caller(self._ensure(HF, username), client)

    def seal(self, token: str) -> str:
        """The token as the page keeps it in the browser: encrypted with a key that never leaves the
        server, so what a page stores is no Bearer credential, and nothing a client can read or make."""
        return self.page_seal.encrypt(token.encode()).decode()

    def unseal(self, sealed: object) -> str | None:
        if not isinstance(sealed, str) or len(sealed) > 1000:
            return None
        try:
            return self.page_seal.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            return None

    # -- checking --------------------------------------------------------------------------------
    def _user_exists(self, user_id: str) -> bool:
        with session_scope(self.engine) as db:
            return db.get(User, user_id) is not None

    def verify(self, token: str) -> str | None:
        """The user id a token names, or None when it is not one of ours (forged, expired, unknown)."""
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != TOKEN_PREFIX or len(token) > 200:
            return None
        body, signature = ".".join(parts[:3]), parts[3]
        if not hmac.compare_digest(self._sign(body), signature):
            return None
        try:
            user_id, issued = str(uuid.UUID(parts[1])), int(parts[2])
        except ValueError:
            return None
        if not 0 <= time.time() - issued <= self.max_age_s or not self._known(user_id):
            return None
        return user_id

    def caller(self, credential: str | None, client: str | None = None) -> Caller:
        """The caller a credential (a token or an operator's API key) names; 401 without one."""
        credential = (credential or "").strip()
        if not credential:
            raise Unauthorized(f"Who is calling? {HOW_TO}")
        name = next((n for key, n in self.api_keys.items() if hmac.compare_digest(key, credential)), None)
        if name is not None:
            return Caller(self._ensure(API_KEY, name), client)
        user_id = self.verify(credential)
        if user_id is None:
            raise Unauthorized(f"The token is not valid (forged, expired or revoked). {HOW_TO}")
        return Caller(user_id, client)


def bearer(authorization: str | None) -> str | None:
    """The credential of an `Authorization: Bearer …` header."""
    scheme, _, value = (authorization or "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
