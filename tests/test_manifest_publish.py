"""The DAG's dbt manifest is only ever swapped in whole (``ytempire.dbt_runner.publish_manifest``).

dbt rewrites ``target/manifest.json`` in place; a DAG parse that read it while
two dbt commands wrote it failed on invalid JSON and every later task failed
with "Dag not found". The DAG reads a copy published by write, fsync and
``os.replace``. These checks hold for a whole-file swap and fail for an
in-place writer, whatever the machine's speed: a reader that opened the old
file keeps reading all of it, and a reader racing a run of publications
parses every read.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from ytempire.dbt_runner import publish_manifest
from ytempire.errors import YTEmpireError


def _manifest(tag: str, nodes: int = 3000) -> bytes:
    """A dbt-shaped manifest of about 1 MB (the project's is 1.6 MB), told apart by ``tag``."""
    body = {
        "metadata": {"tag": tag},
        "nodes": {f"model.p.m{i}": {"name": f"m{i}", "raw_code": tag * 40} for i in range(nodes)},
    }
    return json.dumps(body).encode()


def test_a_reader_of_the_old_file_reads_all_of_it_after_a_publication(tmp_path: Path) -> None:
    source, dest = tmp_path / "manifest.json", tmp_path / "published" / "manifest.json"
    old, new = _manifest("old"), _manifest("new")
    source.write_bytes(old)
    assert publish_manifest(source, dest) is True
    with dest.open("rb") as reader:
        head = reader.read(100)
        source.write_bytes(new)
        assert publish_manifest(source, dest) is True
        # An in-place writer would have truncated what this reader is reading.
        assert head + reader.read() == old
    assert dest.read_bytes() == new
    assert [p.name for p in dest.parent.iterdir()] == ["manifest.json"]  # no partial left


def test_a_reader_racing_publications_parses_every_read(tmp_path: Path) -> None:
    sources = [tmp_path / "a.json", tmp_path / "b.json"]
    for path, tag in zip(sources, ("a", "b"), strict=True):
        path.write_bytes(_manifest(tag))
    dest = tmp_path / "published" / "manifest.json"
    publish_manifest(sources[0], dest)
    stop = threading.Event()

    def publish() -> None:
        n = 0
        while not stop.is_set():
            publish_manifest(sources[n % 2], dest)
            n += 1

    writer = threading.Thread(target=publish)
    writer.start()
    try:
        tags = [json.loads(dest.read_bytes())["metadata"]["tag"] for _ in range(200)]
    finally:
        stop.set()
        writer.join()
    assert set(tags) <= {"a", "b"}


def test_a_partial_or_foreign_source_is_refused_and_the_published_file_kept(
    tmp_path: Path,
) -> None:
    source, dest = tmp_path / "manifest.json", tmp_path / "published" / "manifest.json"
    whole = _manifest("whole")
    source.write_bytes(whole)
    publish_manifest(source, dest)
    for bad in (whole[: len(whole) // 2], b'{"metadata": {}}'):  # half-written; not a manifest
        source.write_bytes(bad)
        with pytest.raises(YTEmpireError, match="manifest"):
            publish_manifest(source, dest)
        assert dest.read_bytes() == whole


def test_publishing_the_same_manifest_again_changes_nothing(tmp_path: Path) -> None:
    """The dbt_docs task publishes every day: an unchanged DAG input stays untouched."""
    source, dest = tmp_path / "manifest.json", tmp_path / "published" / "manifest.json"
    source.write_bytes(_manifest("same"))
    assert publish_manifest(source, dest) is True
    before = dest.stat().st_ino
    assert publish_manifest(source, dest) is False
    assert dest.stat().st_ino == before


def test_a_missing_dag_manifest_is_published_from_dbts_last_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`airflow dags test` on a target folder only dbt commands wrote (the bench's direct run)."""
    from orchestration.airflow_local import ensure_dag_manifest
    from ytempire.dbt_runner import published_manifest

    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.json").write_bytes(_manifest("last"))
    assert ensure_dag_manifest() == published_manifest()
    assert json.loads(published_manifest().read_bytes())["metadata"]["tag"] == "last"


def test_a_producer_given_the_published_parse_rereads_only_a_changed_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start's parse gives the dbt groups' producers a partial parse, never a stale node.

    `ytempire airflow start` runs :func:`parse_dbt_project` in the tasks'
    environment. Cosmos runs each producer's `dbt build` in a temporary copy of the project,
    into which it copies the newest `partial_parse.msgpack` it knows. Here the
    copy is given the one :func:`parse_dbt_project` left, one model is changed
    in it, and dbt runs as the producer runs it (`--profile`, `--target`,
    `--no-static-parser`, same environment): dbt must take the msgpack (no
    "Unable to do partial parsing") and read the changed model again.
    """
    import shutil

    from dbt.cli.main import dbtRunner

    from orchestration.airflow_local import parse_dbt_project
    from ytempire.dbt_runner import DBT_PROJECT_DIR, target_dir

    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "published"))
    manifest = json.loads(parse_dbt_project().read_bytes())
    model = next(n for n in manifest["nodes"].values() if n["resource_type"] == "model")
    copy = tmp_path / "producer_copy"
    shutil.copytree(DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    (copy / "target").mkdir()
    shutil.copy(target_dir() / "partial_parse.msgpack", copy / "target")
    marker = "-- changed after the published parse"
    with (copy / model["original_file_path"]).open("a") as sql:
        sql.write(f"\n{marker}\n")

    monkeypatch.setenv("DBT_TARGET_PATH", "target")  # the DAG's dbt tasks' (TASK_DBT_TARGET)
    events: dict[str, Any] = {}  # dbt's event name -> its data (the last of each)
    folder = str(copy)
    as_the_producer = ["--profile", "ytempire", "--target", "local", "--no-static-parser"]
    result = dbtRunner(callbacks=[lambda e: events.update({e.info.name: e.data})]).invoke(
        ["parse", "--project-dir", folder, "--profiles-dir", folder, *as_the_producer, "--quiet"]
    )
    assert result.success, result.exception
    assert "UnableToPartialParse" not in events, events["UnableToPartialParse"].reason
    changed = events["PartialParsingEnabled"]
    assert (changed.deleted, changed.added, changed.changed) == (0, 0, 1)
    reparsed = json.loads((copy / "target" / "manifest.json").read_bytes())
    assert marker in reparsed["nodes"][model["unique_id"]]["raw_code"]
