"""The platform's one wire format for instants: ISO-8601 in UTC with a ``Z``.

``2025-01-02T03:04:05.000006Z``: always six fraction digits, so strings sort
as the instants do (the event contract's ``occurred_at``, outbox error
records, webhook observations, the simulators' traffic). YouTube's own
``publishedAt`` has no fraction and is written by the YouTube simulator
as the API does.

What is read back is :data:`INSTANT_PATTERN`: an RFC 3339 date-time with a zone, and
nothing a lax parser would also take for one (the event contract, ``ytempire/events.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime

ISO_Z = "%Y-%m-%dT%H:%M:%S.%fZ"


def iso_z(moment: datetime) -> str:
    """``moment`` as ISO-8601 UTC with a ``Z`` and microseconds (pure).

    An aware ``moment`` is converted to UTC; a naive one is taken as local
    time, as :meth:`datetime.astimezone` does. The year has four digits from year 1
    (``strftime``'s ``%Y`` drops the leading zeros of years before 1000 on glibc).
    """
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}" + utc.strftime(ISO_Z.removeprefix("%Y"))


# --- reading an instant --------------------------------------------------------------------
#
# What every consumer of the event contract accepts as an instant (``occurred_at``,
# ``published_at``): RFC 3339's date-time (ISO 8601 extended format) with seconds, an
# upper-case ``T``, a fraction of 1 to 6 digits and a zone (``Z`` or ``+hh:mm``/``-hh:mm``),
# nothing else: no number (epoch seconds or milliseconds), no space for the ``T``, no
# zone-less time, no fraction finer than the microsecond every consumer keeps (Python,
# PostgreSQL, Spark), no offset beyond 18:00 (Java's ZoneOffset, which Spark uses, stops
# there). The pattern is read alike by pydantic-core's regex, Python's ``re`` and Java's
# (the Spark windows), ``$`` as the end of the text (``\Z`` for ``re``, ``\z`` for Java).
INSTANT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"(Z|[+-](0[0-9]|1[0-7]):[0-5][0-9]|[+-]18:00)$"
)
