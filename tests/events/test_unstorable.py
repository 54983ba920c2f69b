"""Text and numbers PostgreSQL cannot store never block the landing (issue 15, item 3)."""

from __future__ import annotations

import json
import random

import ingestion.kafka_events.helpers as helpers
from ingestion.kafka_events import kafka_events
from ingestion.kafka_events.landing import land_events, make_pipeline
from simulation.traffic import simulated_events
from ytempire.events import EVENT_ADAPTER


def _user_action(event_id: str, action: str) -> bytes:
    """A user_action event whose ``action`` is the JSON text ``action`` (already escaped)."""
    head = f'{{"event_id":"{event_id}","event_type":"user_action",'
    rest = (
        '"occurred_at":"2026-01-01T00:00:00Z","channel_id":"UCaaaaaaaaaaaaaaaaaaaaaa",'
        f'"payload":{{"user_id":"u1","action":"{action}"}}}}'
    )
    return (head + rest).encode()


def _poison(valid: list[bytes], rng: random.Random, i: int) -> tuple[bytes, str]:
    """One message the contract must refuse, and the rule its reason names."""
    event_id = f"00000000-0000-4000-8000-{i:012d}"
    kind = i % 7
    if kind == 0:
        return _user_action(event_id, "a\\u0000b"), "unstorable_text"  # the case
    if kind == 1:
        return _user_action(event_id, "\\u0000"), "unstorable_text"
    if kind == 2:
        return _user_action(event_id, "a\\ud800b"), "json_invalid"  # a lone surrogate
    if kind == 3:
        return _user_action(event_id, "ok").replace(b"ok", b"o\xffk"), "json_invalid"
    metrics = next(json.loads(v) for v in rng.sample(valid, 50) if b'"metrics_update"' in v)
    metrics["event_id"] = event_id
    if kind == 4:
        metrics["payload"]["views"] = 2**63  # beyond bigint
        return json.dumps(metrics).encode(), "less_than_equal"
    if kind == 5:
        metrics["payload"]["revenue_usd"] = 1e999  # json.dumps writes Infinity
        return json.dumps(metrics).encode(), "finite_number"
    metrics["payload"]["watch_time_minutes"] = float("nan")
    return json.dumps(metrics).encode(), "finite_number"


def test_poison_among_100k_valid_events_is_dead_lettered_in_one_run(
    settings, new_topic, produce, loader, tmp_path
):
    topic, dlq = new_topic("events", partitions=3), new_topic("dlq")
    valid = list(simulated_events(100_000, seed=31))
    valid_bytes = [v for _, _, v, _ in valid]
    rng = random.Random(5)
    poison = [_poison(valid_bytes, rng, i) for i in range(700)]
    # a backslash followed by "u0000" is ordinary text: it lands
    storable = _user_action("00000000-0000-4000-8000-999999999999", "a\\\\u0000b")
    mixed = [(k, v) for _, k, v, _ in valid] + [("p", v) for v, _ in poison]
    mixed.append(("s", storable))
    rng.shuffle(mixed)
    produce(topic, mixed)

    summary = land_events(
        [topic],
        pipelines_dir=tmp_path,
        pipeline_name=tmp_path.name,
        dead_letter_topic=dlq,
        settings=settings,
    )

    assert summary.messages == 100_701
    landed = loader(
        "select event_id::text, count(*) from raw_events.events where kafka_topic = %s "
        "group by event_id",
        (topic,),
    )
    expected = sorted([e for *_, e in valid] + ["00000000-0000-4000-8000-999999999999"])
    assert sorted(e for e, _ in landed) == expected
    assert {n for _, n in landed} == {1}
    action = loader(
        "select payload->>'action' from raw_events.events where event_id = %s",
        ("00000000-0000-4000-8000-999999999999",),
    )
    assert action == [("a\\u0000b",)]
    dead = loader(
        "select reason from raw_events.dead_letters where kafka_topic = %s order by kafka_offset",
        (topic,),
    )
    assert len(dead) == 700
    by_rule: dict[str, int] = {}
    for _, rule in poison:
        by_rule[rule] = by_rule.get(rule, 0) + 1
    for rule, count in by_rule.items():
        assert sum(1 for (reason,) in dead if f"[{rule}]" in reason) == count, rule
    assert sum(1 for (r,) in dead if r.startswith("payload.action: text holds a NUL")) == 200


def test_a_package_an_older_release_left_with_a_nul_is_aborted_and_landed_again(
    settings, new_topic, produce, loader, tmp_path, monkeypatch
):
    """The issue's case: a NUL event then a normal one; the stuck package no longer blocks."""
    topic, dlq = new_topic("events"), new_topic("dlq")
    normal = next(v for _, _, v, _ in simulated_events(1, seed=41))
    bad = _user_action("00000000-0000-4000-8000-000000000041", "a\\u0000b")
    produce(topic, [("k", bad), ("k", normal)])
    pipeline = make_pipeline(settings, tmp_path, tmp_path.name)
    # an older release's contract, which let the NUL through to the load package
    with monkeypatch.context() as patch:
        patch.setattr(helpers, "parse_event", EVENT_ADAPTER.validate_json)
        source = kafka_events([topic], dead_letter_topic=dlq, settings=settings)
        pipeline.extract(source, loader_file_format="csv")
    pipeline.normalize()
    assert len(pipeline.list_normalized_load_packages()) == 1

    summary = land_events(
        [topic],
        pipelines_dir=tmp_path,
        pipeline_name=tmp_path.name,
        dead_letter_topic=dlq,
        settings=settings,
    )

    assert summary.messages == 2  # read again from offset 0
    assert make_pipeline(settings, tmp_path, tmp_path.name).list_normalized_load_packages() == []
    landed = loader("select kafka_offset from raw_events.events where kafka_topic = %s", (topic,))
    assert landed == [(1,)]
    dead = loader(
        "select kafka_offset, reason from raw_events.dead_letters where kafka_topic = %s",
        (topic,),
    )
    assert [(o, "[unstorable_text]" in r) for o, r in dead] == [(0, True)]
