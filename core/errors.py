"""Errors the service raises; each face maps them to its own status codes."""

from collections.abc import Iterator
from contextlib import contextmanager


class FitroomError(Exception):
    """Base class: the message is meant for a person to read."""

    status_code = 500


class InputError(FitroomError):
    """The caller sent something we refuse (HTTP 4xx)."""

    status_code = 400


class PayloadTooLarge(InputError):
    """Bigger than the limit for its kind (an upload, an import): refused before it is read."""

    status_code = 413


class UnsupportedMedia(InputError):
    """Not a format we read (HTTP 415)."""

    status_code = 415


class NotFound(FitroomError):
    """No such record for this caller: someone else's and a missing one read the same."""

    status_code = 404


class Unavailable(FitroomError):
    """A dependency (storage, database, model) cannot serve right now (HTTP 503)."""

    status_code = 503


class PipelineError(FitroomError):
    """A job step failed; the message ends up in the job's log."""


class Unauthorized(InputError):
    """No credential, or one the server did not issue (HTTP 401)."""

    status_code = 401


class Forbidden(InputError):
    """A known caller asking for what is not theirs to do (HTTP 403)."""

    status_code = 403


class TooManyRequests(InputError):
    """A client is over one of its quotas (HTTP 429); `retry_after_s` goes out as Retry-After."""

    status_code = 429

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
