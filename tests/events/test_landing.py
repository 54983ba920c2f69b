"""The dlt Kafka landing against real Kafka and PostgreSQL."""

from __future__ import annotations

import base64
import json
import random
import shutil
from datetime import date
from pathlib import Path

import pytest

from ingestion.kafka_events import kafka_events
from ingestion.kafka_events.landing import LandingSummary, land_events, make_pipeline
from ingestion.load_failures import LoadInterrupted, LoadRetriesExhausted
from simulation.traffic import simulated_events
from tests.pg_faults import locked_ending_its_waiters
from tests.read_topic import read_topic
from ytempire.clients import librdkafka_producer, pg_connect
from ytempire.settings import Settings


def _malformed(rng: random.Random, valid: list[bytes], i: int) -> tuple[str | None, bytes | None]:
    """One message that is not an event of the contract, of ten different kinds."""
    good = json.loads(rng.choice(valid))
    kind = i % 10
    if kind == 0:
        return None, b"not json at all"
    if kind == 1:
        return "k", rng.choice(valid)[:-7]  # truncated JSON
    if kind == 2:
        return "tombstone", None
    if kind == 3:
        return "k", b"\xff\xfe\x00binary"
    if kind == 4:
        good["event_type"] = "video_exploded"
    elif kind == 5:
        del good["event_id"]
    elif kind == 6:
        good["channel_id"] = "UCshort"
    elif kind == 7:
        good["schema_version"] = 2
    elif kind == 8:
        good["occurred_at"] = "2026-01-01T00:00:00"  # no timezone
    else:
        good["payload"] = {"surprise": True}
    return good["channel_id"], json.dumps(good).encode()


def test_malformed_messages_are_dead_lettered_and_valid_ones_landed(
    settings, new_topic, produce, loader, tmp_path
):
    topic, dlq = new_topic("events", partitions=3), new_topic("dlq")
    valid = list(simulated_events(40_000, seed=7))
    valid_bytes = [value for _, _, value, _ in valid]
    rng = random.Random(1)
    bad = [_malformed(rng, valid_bytes, i) for i in range(10_000)]
    mixed: list[tuple[str | None, bytes | None]] = [(k, v) for _, k, v, _ in valid] + bad
    rng.shuffle(mixed)
    produce(topic, mixed)

    summary = land_events(
        [topic],
        pipelines_dir=tmp_path,
        pipeline_name=tmp_path.name,
        chunk_size=20_000,
        page_size=5_000,
        dead_letter_topic=dlq,
        settings=settings,
    )

    assert summary.messages == 50_000
    landed = loader("select event_id::text from raw_events.events where kafka_topic = %s", (topic,))
    assert sorted(r[0] for r in landed) == sorted(e for *_, e in valid)
    dead = loader(
        "select raw_value, reason from raw_events.dead_letters where kafka_topic = %s", (topic,)
    )
    assert len(dead) == 10_000
    assert all(reason for _, reason in dead)
    expected_raw = sorted(base64.b64encode(v).decode() for _, v in bad if v is not None)
    assert sorted(raw for raw, _ in dead if raw is not None) == expected_raw
    reasons = " ".join(reason for _, reason in dead)
    for rule in ("json_invalid", "union_tag_invalid", "event_id: Field required", "channel_id"):
        assert rule in reasons

    on_topic = read_topic(dlq, settings)
    assert len(on_topic) == 10_000
    assert all(dict(m.headers)["reason"] for m in on_topic)


# Every codec a Kafka producer may send: the landing reads what any producer wrote to a
# topic without a codec of its own (the platform's topics store zstd whatever arrives).
PRODUCER_CODECS = ("zstd", "gzip", "lz4", "snappy", "none")


def test_topics_written_with_every_producer_codec_land_the_same(
    settings, new_topic, loader, tmp_path
):
    sent: dict[str, list[str]] = {}
    # seeds no other test uses: event ids are unique across the whole table
    for seed, codec in enumerate(PRODUCER_CODECS, start=3_000):
        topic = new_topic(f"codec-{codec}", partitions=2)
        events = list(simulated_events(1_500, seed=seed))
        producer = librdkafka_producer(settings, **{"compression.type": codec})
        for _, key, value, _ in events:
            producer.produce(topic, key=key.encode(), value=value)
        assert producer.flush(60) == 0, f"{codec}: messages left undelivered"
        sent[topic] = sorted(event_id for *_, event_id in events)

    summary = land_events(
        list(sent),
        pipelines_dir=tmp_path,
        pipeline_name=tmp_path.name,
        page_size=1_000,
        dead_letter_topic=new_topic("dlq"),
        settings=settings,
    )

    assert summary.messages == 5 * 1_500
    for topic, event_ids in sent.items():
        landed = loader(
            "select event_id::text from raw_events.events where kafka_topic = %s order by 1",
            (topic,),
        )
        assert [r[0] for r in landed] == event_ids, topic


def test_a_second_run_lands_only_new_messages_and_null_keys_do_not_collide(
    settings, new_topic, produce, loader, tmp_path
):
    topic = new_topic("events", partitions=2)
    first = list(simulated_events(3_000, seed=11))
    produce(topic, [(None, v) for _, _, v, _ in first])  # null keys
    run = dict(
        pipelines_dir=tmp_path,
        pipeline_name=tmp_path.name,
        page_size=1_000,
        dead_letter_topic=new_topic("dlq"),
    )
    assert land_events([topic], settings=settings, **run).messages == 3_000
    assert land_events([topic], settings=settings, **run).messages == 0

    second = list(simulated_events(2_000, seed=11, first_day=date(2025, 6, 1)))
    produce(topic, [(None, v) for _, _, v, _ in second])
    assert land_events([topic], settings=settings, **run).messages == 2_000
    rows = loader(
        "select count(*), count(distinct event_id), count(distinct "
        "(kafka_partition, kafka_offset)) from raw_events.events where kafka_topic = %s",
        (topic,),
    )
    assert rows == [(5_000, 5_000, 5_000)]
    keys = loader(
        "select indexdef from pg_indexes where schemaname = 'raw_events' and tablename = 'events'"
    )
    assert any("(kafka_topic, kafka_partition, kafka_offset)" in k[0] for k in keys)
    assert any("UNIQUE" in k[0] and "(event_id)" in k[0] for k in keys)


def test_a_run_in_a_fresh_folder_carries_on_from_the_destinations_offsets(
    settings, new_topic, produce, loader, tmp_path
):
    """The local folder lost (a new machine, an ephemeral worker): the offsets are the
    destination's, so the next run lands only the new messages."""
    topic, dlq = new_topic("events", partitions=2), new_topic("dlq")
    produce(topic, [(k, v) for _, k, v, _ in simulated_events(600, seed=12)])
    run = dict(pipeline_name=tmp_path.name, page_size=200, dead_letter_topic=dlq)
    assert land_events(
        [topic], pipelines_dir=tmp_path / "a", settings=settings, **run
    ).messages == (600)
    later = list(simulated_events(400, seed=13))
    produce(topic, [(k, v) for _, k, v, _ in later])

    summary = land_events([topic], pipelines_dir=tmp_path / "b", settings=settings, **run)

    assert summary.messages == 400
    rows = loader(
        "select count(*), count(distinct event_id) from raw_events.events where kafka_topic = %s",
        (topic,),
    )
    assert rows == [(1_000, 1_000)]


def test_an_event_republished_at_a_later_offset_lands_once(
    settings, new_topic, produce, loader, tmp_path
):
    topic = new_topic("events")
    events = list(simulated_events(500, seed=3))
    produce(topic, [(k, v) for _, k, v, _ in events])
    produce(topic, [(k, v) for _, k, v, _ in events[:200]])  # a producer retry storm
    run = dict(pipelines_dir=tmp_path, pipeline_name=tmp_path.name, chunk_size=300, page_size=100)
    land_events([topic], dead_letter_topic=new_topic("dlq"), settings=settings, **run)
    rows = loader(
        "select count(*), count(distinct event_id), min(kafka_offset), max(kafka_offset) "
        "from raw_events.events where kafka_topic = %s",
        (topic,),
    )
    assert rows == [(500, 500, 0, 499)]


def _resume(topic: str, dlq: str, pipelines_dir: Path, settings: Settings) -> LandingSummary:
    """The next run of the landing in the folder a killed run left behind."""
    return land_events(
        [topic],
        pipelines_dir=pipelines_dir,
        pipeline_name=pipelines_dir.name,
        dead_letter_topic=dlq,
        settings=settings,
    )


def _landed_ids(loader, topic: str) -> list[str]:
    rows = loader("select event_id::text from raw_events.events where kafka_topic = %s", (topic,))
    return sorted(r[0] for r in rows)


SEEDS = {"extract": 21, "normalize": 22, "normalize_commit": 24}


@pytest.mark.parametrize("died_after", list(SEEDS))
def test_a_package_left_by_a_killed_run_is_loaded_first_and_not_read_again(
    settings, new_topic, produce, loader, tmp_path, died_after
):
    """Killed after extract, after normalize, or inside normalize's commit.

    ``normalize_commit``: dlt renames the normalized package into place, then
    deletes its extracted copy; a SIGKILL between the two leaves both, and
    normalizing again used to fail every later run ("Directory not empty").
    """
    topic, dlq = new_topic("events", partitions=2), new_topic("dlq")
    # event ids are the identity: each case needs its own
    events = list(simulated_events(2_000, seed=SEEDS[died_after]))
    produce(topic, [(k, v) for _, k, v, _ in events])
    pipeline = make_pipeline(settings, tmp_path, tmp_path.name)
    source = kafka_events(
        [topic], max_messages=1_500, page_size=500, dead_letter_topic=dlq, settings=settings
    )
    pipeline.extract(source, loader_file_format="csv")  # offsets now committed locally ...
    extracted = Path(pipeline.working_dir) / "normalize" / "extracted"
    if died_after == "normalize_commit":
        shutil.copytree(extracted, tmp_path / "extracted-copy")
    if died_after != "extract":
        pipeline.normalize()  # ... and the package is ready, but never loaded
    if died_after == "normalize_commit":  # the extracted copy was never deleted
        shutil.rmtree(extracted)
        shutil.copytree(tmp_path / "extracted-copy", extracted)
    summary = _resume(topic, dlq, tmp_path, settings)
    assert summary.messages == 500  # only what the killed run had not read
    assert _landed_ids(loader, topic) == sorted(e for *_, e in events)


def test_a_package_replayed_after_its_jobs_committed_lands_nothing_twice(
    settings, new_topic, produce, loader, tmp_path
):
    """The crash dlt cannot close: every job committed, the package not yet marked loaded.

    The resumed run replays all of the package's jobs; the merges change nothing
    and the state table takes its row again instead of failing the run.
    """
    topic, dlq = new_topic("events", partitions=2), new_topic("dlq")
    events = list(simulated_events(1_000, seed=23))
    produce(topic, [(k, v) for _, k, v, _ in events])
    pipeline = make_pipeline(settings, tmp_path, tmp_path.name)
    source = kafka_events([topic], page_size=500, dead_letter_topic=dlq, settings=settings)
    pipeline.extract(source, loader_file_format="csv")
    pipeline.normalize()
    (load_id,) = pipeline.list_normalized_load_packages()
    normalized = Path(pipeline.working_dir) / "load" / "normalized" / load_id
    shutil.copytree(normalized, tmp_path / "left-behind")
    pipeline.load().raise_on_failed_jobs()  # committed ...
    shutil.rmtree(normalized.parent.parent / "loaded" / load_id)
    shutil.copytree(tmp_path / "left-behind", normalized)  # ... but never marked done
    # as a database landed by an earlier release has it (dlt's unique _dlt_id)
    with pg_connect("loader", settings=settings) as conn:
        conn.execute(
            "alter table raw_events._dlt_pipeline_state drop constraint if exists "
            "_dlt_pipeline_state__dlt_id_key; alter table raw_events._dlt_pipeline_state "
            "add constraint _dlt_pipeline_state__dlt_id_key unique (_dlt_id)"
        )

    summary = _resume(topic, dlq, tmp_path, settings)
    assert summary.messages == 0
    assert _landed_ids(loader, topic) == sorted(e for *_, e in events)


def test_a_load_failing_on_every_retry_keeps_its_package_and_says_what_to_run(
    settings, new_topic, produce, loader, tmp_path
):
    """The database ends the load's session on every try dlt gives its job.

    The run stops with the project's error (exit 2) naming the package, its
    table, the tries and the command to run; the package stays, a next run
    under the same fault stops on it the same way, and once the lock is gone
    the next run lands it first: every event once, none read twice.
    """
    topic, dlq = new_topic("events"), new_topic("dlq")
    events = list(simulated_events(600, seed=57))  # event ids are the identity
    produce(topic, [(k, v) for _, k, v, _ in events[:100]])
    assert _resume(topic, dlq, tmp_path, settings).messages == 100
    produce(topic, [(k, v) for _, k, v, _ in events[100:]])

    with locked_ending_its_waiters(settings, "raw_events.events") as ended:
        with pytest.raises(LoadRetriesExhausted) as stopped:
            _resume(topic, dlq, tmp_path, settings)
        # the next run loads the kept package first, and stops the same way
        with pytest.raises(LoadRetriesExhausted) as again:
            _resume(topic, dlq, tmp_path, settings)

    error = stopped.value
    (kept,) = make_pipeline(settings, tmp_path, tmp_path.name).list_normalized_load_packages()
    assert error.load_id == kept
    assert again.value.load_id == kept
    assert error.table == "events"
    assert error.exit_code == 2
    assert len(ended) >= error.tries >= 1
    message = str(error)
    assert f"package {kept}" in message
    assert f"failed {error.tries} times" in message
    assert "run `ytempire ingest events` again" in message
    assert "Traceback" not in message
    assert "dlt pipeline" not in message
    assert len(_landed_ids(loader, topic)) == 100  # nothing of the kept package

    assert _resume(topic, dlq, tmp_path, settings).messages == 0  # the package was all
    assert _landed_ids(loader, topic) == sorted(e for *_, e in events)


@pytest.mark.parametrize(
    ("mode", "step", "seed"),
    [
        ("exclusive", "load", 61),  # reads go on; the package's row in _dlt_loads waits
        ("access exclusive", "sync", 62),  # reading the destination's state waits
    ],
)
def test_a_session_ended_outside_a_load_job_keeps_the_package_and_says_what_to_run(
    mode, step, seed, settings, new_topic, produce, loader, tmp_path
):
    """The database ends the session that records the finished package, or reads the state.

    dlt retries neither (they are not jobs): before, the run stopped with dlt's
    traceback and exit 1. It stops with the project's error (exit 2) naming
    the step and the package; the next run loads the package first: every
    event once.
    """
    topic, dlq = new_topic("events"), new_topic("dlq")
    events = list(simulated_events(300, seed=seed))  # event ids are the identity
    produce(topic, [(k, v) for _, k, v, _ in events[:100]])
    assert _resume(topic, dlq, tmp_path, settings).messages == 100  # _dlt_loads exists
    produce(topic, [(k, v) for _, k, v, _ in events[100:]])

    with (
        locked_ending_its_waiters(settings, "raw_events._dlt_loads", mode) as ended,
        pytest.raises(LoadInterrupted) as stopped,
    ):
        _resume(topic, dlq, tmp_path, settings)

    error = stopped.value
    kept = make_pipeline(settings, tmp_path, tmp_path.name).list_normalized_load_packages()
    assert (error.step, error.exit_code, len(ended)) == (step, 2, 1)
    assert error.load_id == (kept[0] if kept else None)
    assert len(kept) == (step == "load")
    message = str(error)
    assert "run `ytempire ingest events` again" in message
    assert "Traceback" not in message
    assert "dlt pipeline" not in message

    _resume(topic, dlq, tmp_path, settings)  # the kept package first, then what is left
    assert _landed_ids(loader, topic) == sorted(e for *_, e in events)
