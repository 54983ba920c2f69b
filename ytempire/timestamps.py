"""The platform's one wire format for instants: ISO-8601 in UTC with a ``Z``.

``2025-01-02T03:04:05.000006Z``: always six fraction digits, so strings sort
as the instants do (the event contract's ``occurred_at``, outbox error
records, webhook observations, the simulators' traffic). YouTube's own
``publishedAt`` has no fraction and is written by the YouTube simulator
as the API does.
"""

from __future__ import annotations

from datetime import UTC, datetime

ISO_Z = "%Y-%m-%dT%H:%M:%S.%fZ"


def iso_z(moment: datetime) -> str:
    """``moment`` as ISO-8601 UTC with a ``Z`` and microseconds (pure).

    An aware ``moment`` is converted to UTC; a naive one is taken as local
    time, as :meth:`datetime.astimezone` does.
    """
    return moment.astimezone(UTC).strftime(ISO_Z)
