"""Which report type to use for each family: discovered from ``reportTypes.list``, never hard-coded.

A report type id is a family and a version (``channel_basic_a3``: family
``channel_basic``, version 3). YouTube adds a version when a report changes
(``_a3`` added ``engaged_views`` in 2025), deprecates the old one
(``deprecateTime``) and later stops listing it. For each family the lander
wants, the type to use is the newest version that is not deprecated; a
family whose every version is deprecated keeps the newest until its
``deprecateTime`` passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_ID = re.compile(r"^(?P<family>[a-z0-9_]+?)_a(?P<version>\d+)$")


@dataclass(frozen=True)
class ReportType:
    """One entry of ``reportTypes.list``."""

    id: str
    name: str
    family: str
    version: int
    deprecate_time: datetime | None = None
    system_managed: bool = False

    def deprecated_at(self, now: datetime) -> bool:
        return self.deprecate_time is not None and self.deprecate_time <= now

    def row(self, seen_at: datetime) -> dict[str, Any]:
        return {
            "report_type_id": self.id,
            "name": self.name,
            "report_family": self.family,
            "version": self.version,
            "deprecate_time": self.deprecate_time,
            "system_managed": self.system_managed,
            "seen_at": seen_at,
        }


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 "Zulu" timestamp of the API (None stays None)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def family_of(report_type_id: str) -> tuple[str, int] | None:
    """(family, version) of a report type id; None if it does not follow ``<family>_a<n>``."""
    match = _ID.match(report_type_id)
    return (match["family"], int(match["version"])) if match else None


def parse(items: list[dict[str, Any]]) -> list[ReportType]:
    """The report types of ``reportTypes.list`` items (ids of another shape are skipped)."""
    out = []
    for item in items:
        parsed = family_of(str(item.get("id", "")))
        if parsed is None:
            continue
        out.append(
            ReportType(
                id=item["id"],
                name=str(item.get("name", "")),
                family=parsed[0],
                version=parsed[1],
                deprecate_time=parse_time(item.get("deprecateTime")),
                system_managed=bool(item.get("systemManaged", False)),
            )
        )
    return out


def current(types: list[ReportType], family: str, now: datetime) -> ReportType | None:
    """The type of ``family`` to create jobs for at ``now`` (None: YouTube lists none usable)."""
    usable = [
        t for t in types if t.family == family and not t.deprecated_at(now) and not t.system_managed
    ]
    if not usable:
        return None
    lasting = [t for t in usable if t.deprecate_time is None]
    return max(lasting or usable, key=lambda t: t.version)
