"""Errors that name what failed, where, and what to do next.

A stopped service surfaces as :class:`ServiceUnavailable`, never as a driver's
stack trace: the CLI prints its message and exits with status 2.
"""

from __future__ import annotations


class YTEmpireError(Exception):
    """Base class for errors the CLI reports as a message, not a traceback."""

    exit_code = 1


class ServiceUnavailable(YTEmpireError):
    """A service the warehouse depends on cannot be reached."""

    exit_code = 2

    def __init__(self, service: str, where: str, cause: object, hint: str | None = None):
        self.service = service
        self.where = where
        self.cause = cause
        self.hint = hint or "start the local services with `make services-start` (or `make setup`)"
        reason = " ".join(str(cause).split()).rstrip(".")  # drivers' messages span lines
        super().__init__(
            f"{service} is down or unreachable at {where}: {reason}. Next: {self.hint}."
        )
