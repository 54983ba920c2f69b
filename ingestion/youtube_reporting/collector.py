"""One run's collection: per channel, its jobs, the reports new since its cursor, the CSVs.

For each channel, with its own credentials:

1. the report types (``reportTypes.list``, asked once a run) give the type
   of each wanted family (:mod:`.catalogue`);
2. ``jobs.list``; a job is created (``jobs.create``) for each family that has
   none of its current type; a 409 (made meanwhile) reads the list again. A
   job of an older or deprecated type of a family is the channel's
   ``report_type_deprecated`` outcome (alerted once, see :attr:`Collector.alerts`);
   its reports keep landing until YouTube stops making them;
3. for each job, ``jobs.reports.list(createdAfter=<cursor>)``, every page. Of
   the reports of one day only the newest (``createTime``) is wanted, and
   only if the warehouse has nothing as new for that channel, family and day
   (:class:`Known`): a header-only day or a landed day is not asked for
   again, a regenerated one is;
4. each wanted report is downloaded (``media.download``, gzip on the wire)
   and parsed: its rows (with their provenance) go to the family's table,
   one row to ``reports`` (``landed`` or ``no_data``).

The job's cursor (in the dlt source state, committed with the rows) moves to
the newest ``createTime`` below the first report that failed to download,
so a failed report is listed again by the next run and nothing is skipped.
A channel whose jobs list no report yet is ``no_reports_yet``.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import dlt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ingestion.youtube_owner import Outcomes
from ingestion.youtube_owner.calls import (
    AuthRevoked,
    OwnerApi,
    OwnerApiError,
    QuotaExhausted,
    build_client,
)
from ingestion.youtube_owner.runs import RunTally
from ingestion.youtube_owner.tokens import ChannelToken, OAuthClient, credentials
from ingestion.youtube_reporting import COLUMN_TYPES, FAMILIES, FAMILY_COLUMNS, TOMBSTONE
from ingestion.youtube_reporting.catalogue import ReportType, current, family_of, parse, parse_time

log = logging.getLogger(__name__)

PACIFIC = ZoneInfo("America/Los_Angeles")
_ARROW = {"text": pa.string(), "bigint": pa.int64(), "double": pa.float64(), "date": pa.string()}
_ARROW_TYPES = {**_ARROW, "date": pa.date32()}  # as landed (the CSV's dates parsed)
FIRST_REPORTS_AFTER = timedelta(hours=48)
REPORTS_KEPT = timedelta(days=60)  # YouTube deletes a report 60 days after it is made


@dataclass
class Known:
    """The newest report the warehouse holds per (channel, family, day): (createTime, report id)."""

    latest: dict[tuple[str, str, date], tuple[datetime, str]] = field(default_factory=dict)

    def wants(self, channel_id: str, family: str, day: date, create_time: datetime) -> bool:
        held = self.latest.get((channel_id, family, day))
        return held is None or held[0] < create_time

    def add(
        self, channel_id: str, family: str, day: date, create_time: datetime, report_id: str
    ) -> None:
        if self.wants(channel_id, family, day, create_time):
            self.latest[(channel_id, family, day)] = (create_time, report_id)

    def channels(self) -> set[str]:
        return {c for c, _, _ in self.latest}


@dataclass(frozen=True)
class Listed:
    """A report as ``jobs.reports.list`` answered it."""

    id: str
    job_id: str
    family: str
    report_type_id: str
    day: date  # the Pacific day its startTime opens
    start_time: datetime
    end_time: datetime | None
    create_time: datetime
    download_url: str

    @classmethod
    def parse(cls, item: dict[str, Any], family: str, report_type_id: str) -> Listed:
        start, created = parse_time(item["startTime"]), parse_time(item["createTime"])
        if start is None or created is None:
            raise ValueError(f"report {item.get('id')} has no startTime or createTime")
        return cls(
            id=str(item["id"]),
            job_id=str(item["jobId"]),
            family=family,
            report_type_id=report_type_id,
            day=start.astimezone(PACIFIC).date(),
            start_time=start,
            end_time=parse_time(item.get("endTime")),
            create_time=created,
            download_url=str(item["downloadUrl"]),
        )

    @property
    def resource_name(self) -> str:
        """``media.download``'s resourceName: the download URL's path after ``/v1/media/``."""
        path = urlsplit(self.download_url).path
        return unquote(path.split("/v1/media/", 1)[1])


@dataclass
class Tally(RunTally):
    """What one run did: the runs row's counts of this lander."""

    reports_landed: int = 0
    reports_no_data: int = 0
    rows: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "reports_landed": self.reports_landed,
            "reports_no_data": self.reports_no_data,
            "rows_landed": self.rows,
        }


@dataclass
class Collector:
    """Collects reports of ``channel_ids`` for one dlt load (see the module docstring)."""

    api: OwnerApi
    tokens: dict[str, ChannelToken]
    client: OAuthClient | None
    api_url: str
    token_uri: str
    known: Known
    outcomes: Outcomes
    tally: Tally
    now: datetime
    families: tuple[str, ...] = FAMILIES
    types: list[ReportType] | None = None  # shared by the run's loads: asked once
    alerts: list[dict[str, Any]] = field(default_factory=list)

    progress: Callable[[], None] = lambda: None  # told each time a channel is done

    def items(self, channel_ids: list[str], state: dict[str, Any]) -> Iterator[Any]:
        """The dlt items of ``channel_ids``' reports; ``state`` is the source state."""
        cursors: dict[str, str] = state.setdefault("cursors", {})
        alerted: dict[str, str] = state.setdefault("deprecations_alerted", {})
        for channel_id in channel_ids:
            self.tally.channels += 1
            token = self.tokens.get(channel_id)
            if token is None or self.client is None:
                self.outcomes.note(
                    channel_id,
                    "no_credentials",
                    "no OAuth grant in the token store. Next: its owner grants access "
                    "(`ytempire youtube-owner grant`).",
                )
                self.progress()
                continue
            try:
                yield from self._channel(channel_id, token, cursors, alerted)
            except AuthRevoked as exc:
                self.outcomes.note(channel_id, "auth_revoked", str(exc))
            except OwnerApiError as exc:
                self.outcomes.note(channel_id, "failed", str(exc))
            self.progress()

    # --- one channel ------------------------------------------------------------------------

    def _channel(
        self, channel_id: str, token: ChannelToken, cursors: dict[str, str], alerted: dict[str, str]
    ) -> Iterator[Any]:
        assert self.client is not None
        client = build_client(
            "youtubereporting", "v1", self.api_url, credentials(token, self.client, self.token_uri)
        )
        if self.types is None:
            items = self._pages(
                client.reportTypes().list, "reportTypes.list", "reportTypes", channel_id
            )
            self.types = parse(items)
            yield dlt.mark.with_table_name([t.row(self.now) for t in self.types], "report_types")
        jobs = self._jobs(client, channel_id)
        by_type = {j["reportTypeId"]: j for j in jobs}
        for family in self.families:
            wanted = current(self.types, family, self.now)
            if wanted is None:
                self.outcomes.note(
                    channel_id, "failed", f"reportTypes.list has no usable type of {family}"
                )
                continue
            if wanted.id not in by_type:
                job = self._create(client, channel_id, wanted.id)
                if job is not None:
                    by_type[job["reportTypeId"]] = job
                    jobs.append(job)
            catalogue = {t.id: t for t in self.types}
            for type_id in sorted(by_type):
                parsed = family_of(type_id)
                if parsed is None or parsed[0] != family or type_id == wanted.id:
                    continue
                # an older version, or one YouTube no longer lists at all
                old = catalogue.get(type_id) or ReportType(type_id, "", family, parsed[1])
                self._deprecated(channel_id, old, wanted, alerted)
        yield dlt.mark.with_table_name([self._job_row(j, channel_id) for j in jobs], "jobs")
        listed_any = False
        retired = {
            t.id
            for t in self.types
            if t.deprecate_time and t.deprecate_time + REPORTS_KEPT < self.now
        }
        for job in jobs:
            parsed = family_of(job["reportTypeId"])
            if parsed is None or parsed[0] not in self.families or job["reportTypeId"] in retired:
                continue  # a type deprecated longer ago than reports are kept has nothing to list
            listed = self._list(client, channel_id, job, cursors)
            listed_any = listed_any or bool(listed)
            yield from self._land(client, channel_id, job, listed, cursors)
        if not listed_any and channel_id not in self.known.channels():
            made = min(
                (parse_time(j.get("createTime")) or self.now for j in jobs), default=self.now
            )
            self.outcomes.note(
                channel_id,
                "no_reports_yet",
                f"its jobs (the first made {made:%Y-%m-%d %H:%M} UTC) have no report yet; "
                f"YouTube makes the first about {FIRST_REPORTS_AFTER.total_seconds() / 3600:.0f} h "
                "after a job is created, with the 30 days before it",
            )

    def _pages(
        self, method: Any, name: str, key: str, channel_id: str, **params: Any
    ) -> list[dict]:
        items, token = [], None
        while True:
            request = method(pageToken=token, **params) if token else method(**params)
            body = self.api.execute(name, request, channel_id)
            items += body.get(key, [])
            token = body.get("nextPageToken")
            if not token:
                return items

    def _jobs(self, client: Any, channel_id: str) -> list[dict[str, Any]]:
        return self._pages(client.jobs().list, "jobs.list", "jobs", channel_id)

    def _create(self, client: Any, channel_id: str, report_type_id: str) -> dict[str, Any] | None:
        """Create the channel's job of a type; idempotent (a 409 reads the jobs again)."""
        body = {"reportTypeId": report_type_id, "name": f"ytempire {report_type_id}"}
        try:
            job: dict[str, Any] = self.api.execute(
                "jobs.create", client.jobs().create(body=body), channel_id
            )
            log.info(
                "youtube_reporting: created job %s (%s) for %s",
                job.get("id"),
                report_type_id,
                channel_id,
            )
            return job
        except OwnerApiError as exc:
            if exc.status != 409:
                raise
        return next(
            (j for j in self._jobs(client, channel_id) if j["reportTypeId"] == report_type_id), None
        )

    def _deprecated(
        self, channel_id: str, old: ReportType, new: ReportType, alerted: dict[str, str]
    ) -> None:
        when = (
            f"deprecated from {old.deprecate_time:%Y-%m-%d}" if old.deprecate_time else "superseded"
        )
        reason = (
            f"the channel's job reports {old.id} ({when}); a job of {new.id} reports the family "
            "from now on, and the old job's reports land until YouTube stops making them"
        )
        self.outcomes.note(channel_id, "report_type_deprecated", reason)
        key = f"{channel_id}:{old.id}"
        if key not in alerted:
            alerted[key] = self.now.isoformat()
            self.alerts.append(
                {
                    "alert_type": "report_type_deprecated",
                    "severity": "medium",
                    "channel_id": channel_id,
                    "report_type_id": old.id,
                    "deprecate_time": old.deprecate_time.isoformat()
                    if old.deprecate_time
                    else None,
                    "replacement": new.id,
                    "message": f"YouTube report type {old.id} of channel {channel_id}: {reason}",
                    "alerted_at": self.now.isoformat(),
                }
            )

    def _job_row(self, job: dict[str, Any], channel_id: str) -> dict[str, Any]:
        return {
            "job_id": job["id"],
            "channel_id": channel_id,
            "report_type_id": job["reportTypeId"],
            "name": job.get("name"),
            "create_time": parse_time(job.get("createTime")),
            "expire_time": parse_time(job.get("expireTime")),
            "system_managed": bool(job.get("systemManaged", False)),
            "seen_at": self.now,
        }

    def _list(
        self, client: Any, channel_id: str, job: dict[str, Any], cursors: dict[str, str]
    ) -> list[Listed]:
        params: dict[str, Any] = {"jobId": job["id"]}
        if job["id"] in cursors:
            params["createdAfter"] = cursors[job["id"]]
        items = self._pages(
            client.jobs().reports().list, "jobs.reports.list", "reports", channel_id, **params
        )
        family = family_of(job["reportTypeId"])[0]  # type: ignore[index]
        return [Listed.parse(i, family, job["reportTypeId"]) for i in items]

    # --- landing ----------------------------------------------------------------------------

    def _land(
        self,
        client: Any,
        channel_id: str,
        job: dict[str, Any],
        listed: list[Listed],
        cursors: dict[str, str],
    ) -> Iterator[Any]:
        newest: dict[date, Listed] = {}
        for report in listed:
            held = newest.get(report.day)
            if held is None or (report.create_time, report.id) > (held.create_time, held.id):
                newest[report.day] = report
        failed: list[Listed] = []
        for report in sorted(newest.values(), key=lambda r: r.start_time):
            if not self.known.wants(channel_id, report.family, report.day, report.create_time):
                continue
            try:
                data = self.api.execute(
                    "media.download",
                    client.media().download_media(resourceName=report.resource_name),
                    channel_id,
                )
            except (AuthRevoked, QuotaExhausted):
                raise
            except OwnerApiError as exc:
                failed.append(report)
                self.outcomes.note(
                    channel_id, "failed", f"report {report.id} of {report.day}: {exc}"
                )
                continue
            yield from self._report_items(channel_id, report, data)
        self._advance(job["id"], listed, failed, cursors)

    def _report_items(self, channel_id: str, report: Listed, data: bytes) -> Iterator[Any]:
        table = read_report(data)
        rows = table.num_rows
        if rows:
            table = _with_provenance(_conform(table, report.family), report)
            yield dlt.mark.with_table_name(table, report.family)
            self.tally.reports_landed += 1
            self.tally.rows += rows
        else:  # header-only: no data that day; deletes rows an earlier report of the day had
            yield dlt.mark.with_table_name(_tombstone(channel_id, report), report.family)
            self.tally.reports_no_data += 1
        yield dlt.mark.with_table_name(
            [
                {
                    "report_id": report.id,
                    "job_id": report.job_id,
                    "channel_id": channel_id,
                    "report_type_id": report.report_type_id,
                    "report_family": report.family,
                    "report_date": report.day,
                    "start_time": report.start_time,
                    "end_time": report.end_time,
                    "create_time": report.create_time,
                    "status": "landed" if rows else "no_data",
                    "row_count": rows,
                    "csv_bytes": len(data),
                    "landed_at": datetime.now(UTC),
                }
            ],
            "reports",
        )
        self.known.add(channel_id, report.family, report.day, report.create_time, report.id)

    def _advance(
        self, job_id: str, listed: list[Listed], failed: list[Listed], cursors: dict[str, str]
    ) -> None:
        """Move the job's cursor to the newest createTime below its first failed report."""
        limit = min((r.create_time for r in failed), default=None)
        done = [r.create_time for r in listed if limit is None or r.create_time < limit]
        if done:
            newest = max(done)
            held = parse_time(cursors.get(job_id))
            if held is None or newest > held:
                cursors[job_id] = newest.astimezone(UTC).isoformat().replace("+00:00", "Z")


def read_report(data: bytes) -> pa.Table:
    """A report CSV as an Arrow table: YouTube's known columns typed, ``date`` a date, empty
    cells NULL (``video_id`` of deleted videos), other columns as Arrow infers them."""
    header = next(csv.reader([data.split(b"\n", 1)[0].decode()]), [])
    types = {name: _ARROW[COLUMN_TYPES[name]] for name in header if name in COLUMN_TYPES}
    table = pacsv.read_csv(
        io.BytesIO(data),
        convert_options=pacsv.ConvertOptions(
            column_types=types, null_values=[""], strings_can_be_null=True
        ),
    )
    if "date" in table.column_names:
        days = pc.strptime(table["date"], format="%Y%m%d", unit="s").cast(pa.date32())
        table = table.set_column(table.column_names.index("date"), "date", days)
    return table


_KEYS = ("channel_id", "date", "report_id", "report_row")  # NOT NULL in the tables


def _conform(table: pa.Table, family: str) -> pa.Table:
    """The family's declared columns in their declared order (NULL where this version has none,
    as ``engaged_views`` in an ``_a2`` report), then any column YouTube added since."""
    declared = FAMILY_COLUMNS[family]
    columns = {
        name: table[name]
        if name in table.column_names
        else pa.nulls(table.num_rows, _ARROW_TYPES[COLUMN_TYPES[name]])
        for name in declared
    }
    columns.update({n: table[n] for n in table.column_names if n not in columns})
    return pa.table(columns)


def _with_provenance(table: pa.Table, report: Listed) -> pa.Table:
    """The report's rows with its provenance; raises ValueError if a key cell is empty."""
    n = table.num_rows
    stamp = pa.timestamp("us", tz="UTC")
    extra = {
        "report_id": pa.array([report.id] * n, pa.string()),
        "report_row": pa.array(range(1, n + 1), pa.int64()),
        "report_type_id": pa.array([report.report_type_id] * n, pa.string()),
        "job_id": pa.array([report.job_id] * n, pa.string()),
        "start_time": pa.array([report.start_time] * n, stamp),
        "create_time": pa.array([report.create_time] * n, stamp),
        TOMBSTONE: pa.nulls(n, pa.bool_()),
    }
    for name, column in extra.items():
        table = table.append_column(name, column)
    return _keys_not_null(table)


def _keys_not_null(table: pa.Table) -> pa.Table:
    """The table with its key fields declared NOT NULL, as the tables are (a null is refused)."""
    for name in _KEYS:
        if name not in table.column_names:
            raise ValueError(f"the report has no {name} column")
        if table[name].null_count:
            raise ValueError(f"the report has rows without {name}")
    fields = [f.with_nullable(False) if f.name in _KEYS else f for f in table.schema]
    return table.cast(pa.schema(fields))


def _tombstone(channel_id: str, report: Listed) -> pa.Table:
    """The row that replaces a day by a header-only report (dlt deletes the day, stores nothing)."""
    stamp = pa.timestamp("us", tz="UTC")
    table = pa.table(
        {
            "channel_id": pa.array([channel_id], pa.string()),
            "date": pa.array([report.day], pa.date32()),
            "report_id": pa.array([report.id], pa.string()),
            "report_row": pa.array([0], pa.int64()),
            "report_type_id": pa.array([report.report_type_id], pa.string()),
            "job_id": pa.array([report.job_id], pa.string()),
            "start_time": pa.array([report.start_time], stamp),
            "create_time": pa.array([report.create_time], stamp),
            TOMBSTONE: pa.array([True], pa.bool_()),
        }
    )
    return _keys_not_null(table)
