"""The one kind of error a request can cause, and how any error becomes a one-line answer.

A request the server cannot take (a body that is not JSON, too many rows, a missing header) raises
:class:`RequestError` with its HTTP status. What the estimator itself refuses (wrong columns, NaN where not
allowed, an image of the wrong size, a damaged codec file, an unknown user) arrives as the ``ValueError`` or
``TypeError`` of the Python API and is answered 400 with the same message. Nothing else reaches the client: an
unexpected exception is logged with its traceback on the server and answered 500 with one line that says so.
"""

from __future__ import annotations

import json

from .._utils import one_line

#: What the Python API raises for input it refuses; answered 400 with its message. OverflowError: a number too
#: large for a float (a JSON integer of hundreds of digits).
USER_ERRORS = (ValueError, TypeError, OverflowError)


class RequestError(Exception):
    """A request the server refuses before (or instead of) calling the estimator.

    Parameters
    ----------
    status : int
        HTTP status: 400 unreadable body, 401 no API key, 404 unknown route, 413 too large, 415 wrong content type.
    message : str
        One line saying what was sent and what to send instead.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = int(status)


def error_body(message: object) -> bytes:
    """The body of every error answer: ``{"error": "one line"}``."""
    return json.dumps({"error": one_line(message)}).encode()


__all__ = ["USER_ERRORS", "RequestError", "error_body"]
