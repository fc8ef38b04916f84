"""Errors the service raises; each face maps them to its own status codes."""

from collections.abc import Iterator
from contextlib import contextmanager


class FitroomError(Exception):
    """Base class: the message is meant for a person to read."""

    status_code = 500

    def __init_subclass__(cls, status: int | None = None, **kwargs: object) -> None:
        """`class NotFound(FitroomError, status=404)`: the status code a face answers with."""
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status_code = status


class InputError(FitroomError, status=400):
    """The caller sent something we refuse (HTTP 4xx)."""


class PayloadTooLarge(InputError, status=413):
    """Bigger than the limit for its kind (an upload, an import): refused before it is read."""


class UnsupportedMedia(InputError, status=415):
    """Not a format we read (HTTP 415)."""


class NotFound(FitroomError, status=404):
    """No such record for this caller: someone else's and a missing one read the same."""


class Unavailable(FitroomError, status=503):
    """A dependency (storage, database, model) cannot serve right now (HTTP 503)."""


class PipelineError(FitroomError):
    """A job step failed; the message ends up in the job's log."""


class Unauthorized(InputError, status=401):
    """No credential, or one the server did not issue (HTTP 401)."""


class Forbidden(InputError, status=403):
    """A known caller asking for what is not theirs to do (HTTP 403)."""


class TooManyRequests(InputError, status=429):
    """A client is over one of its quotas (HTTP 429); `retry_after_s` goes out as Retry-After."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, int(-(-retry_after_s // 1)))  # whole seconds, rounded up, at least 1


def error_for_status(status: int, message: str) -> FitroomError:
    """The error of a recorded status (a job's refusal, told by the face that waited for it)."""
    kinds = {c.status_code: c for c in (InputError, PayloadTooLarge, UnsupportedMedia, Unauthorized, Forbidden,
                                         NotFound)}
    return kinds.get(status, InputError)(message)


@contextmanager
def about(what: str) -> Iterator[None]:
    """A refusal (4xx) or an outage (503) raised inside names what it is about ("The back photo:
    ..."), keeping its kind and so its status code."""
    try:
        yield
    except (InputError, Unavailable) as exc:
        if isinstance(exc, TooManyRequests):
            raise
        raise type(exc)(f"{what}: {exc}") from None
