"""Read a Structured Streaming checkpoint without Spark: the last committed micro-batch.

A query's checkpoint folder holds ``offsets/<batch id>`` (written when a batch
is planned: a version line, the batch's metadata, then one JSON line per
source, for Kafka ``{"topic": {"partition": next offset}}``) and
``commits/<batch id>`` (written once the sink finished the batch). The last
committed batch is the highest id in ``commits/``; its offsets line says how
far the query has read, so the lag is the topics' end offsets minus those.
``ytempire doctor`` reads this instead of starting a Spark session.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class CommittedBatch:
    """The newest micro-batch a query committed."""

    batch_id: int
    committed_at: datetime  # UTC, when its commit file was written
    offsets: dict[str, dict[int, int]]  # topic -> partition -> next offset to read

    def next_offset(self, topic: str, partition: int) -> int | None:
        return self.offsets.get(topic, {}).get(partition)


def last_committed_batch(checkpoint: Path) -> CommittedBatch | None:
    """The newest committed batch under ``checkpoint``, or None if none committed yet.

    Raises ``ValueError`` naming the file if its offsets file is not the
    format described above.
    """
    commits = checkpoint / "commits"
    ids = [int(p.name) for p in commits.iterdir() if p.name.isdigit()] if commits.is_dir() else []
    if not ids:
        return None
    batch_id = max(ids)
    commit_file = commits / str(batch_id)
    committed_at = datetime.fromtimestamp(commit_file.stat().st_mtime, UTC)
    offsets_file = checkpoint / "offsets" / str(batch_id)
    return CommittedBatch(batch_id, committed_at, kafka_offsets(offsets_file))


def kafka_offsets(offsets_file: Path) -> dict[str, dict[int, int]]:
    """The Kafka source offsets recorded in one ``offsets/<batch id>`` file."""
    lines = offsets_file.read_text().splitlines()
    if len(lines) < 3 or not lines[0].startswith("v"):
        raise ValueError(f"{offsets_file}: not a Structured Streaming offsets file")
    found: dict[str, dict[int, int]] = {}
    for line in lines[2:]:
        try:
            source = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{offsets_file}: a source line is not JSON ({exc})") from exc
        if not isinstance(source, dict):
            continue  # another kind of source
        for topic, partitions in source.items():
            if isinstance(partitions, dict):
                found[topic] = {int(p): int(o) for p, o in partitions.items()}
    return found


# Spark's Kafka offsets JSON: -2 is "the partition's earliest offset".
EARLIEST = -2


@dataclass(frozen=True)
class PlannedBatch:
    """One planned micro-batch: the offsets it reads and the watermark it is judged by.

    ``start``/``end``: topic -> partition -> offset, the batch reads ``[start,
    end)`` (``start`` is :data:`EARLIEST` for a partition the query had not read
    before); ``watermark``: Spark's ``batchWatermarkMs`` for the batch (epoch
    ms; 0 while no event has been seen, and always for a query without a
    watermarked operator, as the windows job is: its sink keeps the watermark
    in PostgreSQL, :mod:`streaming.sink`).
    """

    batch_id: int
    start: dict[str, dict[int, int]]
    end: dict[str, dict[int, int]]
    watermark_ms: int


def _metadata(offsets_file: Path) -> dict[str, object]:
    lines = offsets_file.read_text().splitlines()
    if len(lines) < 2 or not lines[0].startswith("v"):
        raise ValueError(f"{offsets_file}: not a Structured Streaming offsets file")
    try:
        meta = json.loads(lines[1])
    except json.JSONDecodeError as exc:
        raise ValueError(f"{offsets_file}: its metadata line is not JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise ValueError(f"{offsets_file}: its metadata line is not a JSON object")
    return meta


def _initial_offsets(checkpoint: Path) -> dict[str, dict[int, int]]:
    """Where the Kafka source started (``sources/0/0``, written at the query's first start)."""
    path = checkpoint / "sources" / "0" / "0"
    if not path.is_file():
        return {}
    for line in path.read_text().splitlines():
        try:
            source = json.loads(line.lstrip("\x00"))
        except json.JSONDecodeError:
            continue
        if isinstance(source, dict):
            return {
                topic: {int(p): int(o) for p, o in partitions.items()}
                for topic, partitions in source.items()
                if isinstance(partitions, dict)
            }
    return {}


def planned_batch(checkpoint: Path, batch_id: int) -> PlannedBatch:
    """The offsets range and watermark of micro-batch ``batch_id`` from the offset log.

    Raises ``ValueError`` naming the file if the batch's offsets file (or the
    previous batch's) is missing or not the format described above.
    """
    offsets_file = checkpoint / "offsets" / str(batch_id)
    if not offsets_file.is_file():
        raise ValueError(f"{offsets_file}: no such offsets file (was the batch purged?)")
    end = kafka_offsets(offsets_file)
    watermark_ms = int(str(_metadata(offsets_file).get("batchWatermarkMs", 0)))
    before = (
        kafka_offsets(checkpoint / "offsets" / str(batch_id - 1))
        if batch_id > 0
        else _initial_offsets(checkpoint)
    )
    start = {
        topic: {p: before.get(topic, {}).get(p, EARLIEST) for p in partitions}
        for topic, partitions in end.items()
    }
    return PlannedBatch(batch_id, start, end, watermark_ms)
