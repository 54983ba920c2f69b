"""Errors that name what failed, where, and what to do next.

A stopped service surfaces as :class:`ServiceUnavailable`, never as a driver's
stack trace: the CLI prints its message and exits with status 2. Its message
never holds a secret: the address and the driver's text pass through
:func:`ytempire.redaction.redact_text` (a Redis URL's password, a DSN's).
"""

from __future__ import annotations

from ytempire.redaction import redact_text, redact_url


class YTEmpireError(Exception):
    """Base class for errors the CLI reports as a message, not a traceback."""

    exit_code = 1


class ServiceUnavailable(YTEmpireError):
    """A service the warehouse depends on cannot be reached."""

    exit_code = 2

    def __init__(self, service: str, where: str, cause: object, hint: str | None = None):
        self.service = service
        self.where = redact_url(where)
        self.cause = cause
        self.hint = hint or "start the local services with `make services-start` (or `make setup`)"
        # drivers' messages span lines, and some quote the URL they were given
        reason = redact_text(" ".join(str(cause).split()).rstrip("."))
        super().__init__(
            f"{service} is down or unreachable at {self.where}: {reason}. Next: {self.hint}."
        )
