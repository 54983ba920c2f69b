"""Kafka (KRaft broker) through the project's factories with kafka-python."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

import pytest
from kafka import TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.codec import has_lz4
from kafka.errors import UnsupportedCodecError
from kafka.serializer import DefaultSerializer, JsonSerializer

from ytempire.clients import kafka_admin, kafka_consumer, kafka_producer, librdkafka_producer
from ytempire.errors import ServiceUnavailable
from ytempire.topics import ALL_TOPICS, COMPRESSION, Topic, ensure_topics

pytestmark = pytest.mark.services


def test_system_topics_exist_with_their_partition_counts(settings):
    admin = kafka_admin(settings=settings)
    try:
        described = {t["name"]: t for t in admin.describe_topics([t.name for t in ALL_TOPICS])}
    finally:
        admin.close()
    for topic in ALL_TOPICS:
        assert len(described[topic.name]["partitions"]) == topic.partitions, topic.name
    declared = {t.name: t.topic_configs for t in ALL_TOPICS}
    assert _topic_configs(settings, declared) == declared


def _topic_configs(settings, keys: Mapping[str, Iterable[str]]) -> dict[str, dict[str, str]]:
    """The values of ``keys`` (topic -> config names) as the broker has them, in one request."""
    admin = kafka_admin(settings=settings)
    try:
        found = admin.describe_configs(
            [
                ConfigResource(ConfigResourceType.TOPIC, topic, dict.fromkeys(names))
                for topic, names in keys.items()
            ],
            config_filter="all",
        )["topic"]
    finally:
        admin.close()
    return {
        topic: {name: found[topic][name]["value"] for name in names}
        for topic, names in keys.items()
    }


def _read_all(settings, topic: str, offset: int) -> list[bytes]:
    """kafka-python (which has no lz4 codec here) reading ``topic`` from ``offset``."""
    consumer = kafka_consumer(settings=settings, consumer_timeout_ms=120_000)
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek(partition, offset)
        end = consumer.end_offsets([partition])[partition]
        values: list[bytes] = []
        while consumer.position(partition) < end:
            for records in consumer.poll(timeout_ms=1_000).values():
                values.extend(r.value for r in records)
        return values
    finally:
        consumer.close()


def test_a_topic_stores_the_platform_codec_whatever_a_producer_sends(settings, new_topic):
    """Set on a topic created without it (as by an earlier release), the topic's own
    compression.type makes the broker recompress an lz4 producer's batches, so a consumer
    without lz4 reads what was sent after it."""
    assert COMPRESSION != "lz4"
    assert not has_lz4()  # kafka-python here cannot read lz4 batches
    topic = new_topic("codec")

    # compressible: librdkafka sends a batch uncompressed when the codec would not shrink it
    before, after = [b"before " * 100], [b"after " * 100, b"again " * 100]

    def send(values: list[bytes]) -> None:
        producer = librdkafka_producer(settings, **{"compression.type": "lz4"})
        for value in values:
            producer.produce(topic, value=value)
        assert producer.flush(60) == 0

    send(before)
    with pytest.raises(UnsupportedCodecError):
        _read_all(settings, topic, 0)

    assert ensure_topics([Topic(topic, 1)], settings=settings) == []  # it exists: configured
    assert _topic_configs(settings, {topic: ["compression.type"]}) == {
        topic: {"compression.type": COMPRESSION}
    }
    send(after)
    assert _read_all(settings, topic, 1) == after


def test_produce_and_consume_across_topics(settings, new_topic):
    videos, channels = new_topic("videos", partitions=3), new_topic("channels")
    producer = kafka_producer(
        settings=settings,
        compression_type="gzip",
        key_serializer=DefaultSerializer(),
        value_serializer=JsonSerializer(),
    )
    sent = {
        videos: [{"n": i, "channel": f"c{i % 4}"} for i in range(60)],
        channels: [{"n": i} for i in range(10)],
    }
    for topic, values in sent.items():
        for value in values:
            producer.send(topic, key=str(value.get("channel", "none")), value=value)
    producer.flush()
    producer.close()

    consumer = kafka_consumer(
        videos,
        channels,
        settings=settings,
        group_id=f"g-{videos}",
        auto_offset_reset="earliest",
        consumer_timeout_ms=120_000,  # a hang bound: the loop stops at the count
        value_deserializer=JsonSerializer(),
    )
    received: dict[str, list] = {videos: [], channels: []}
    partitions_by_key: dict[str, set[int]] = {}
    for message in consumer:
        received[message.topic].append(message.value)
        partitions_by_key.setdefault(message.key, set()).add(message.partition)
        if sum(map(len, received.values())) == 70:
            break
    consumer.commit()
    consumer.close()

    for topic in sent:
        assert sorted(v["n"] for v in received[topic]) == [v["n"] for v in sent[topic]]
    # One key, one partition: per-channel ordering holds.
    assert all(len(p) == 1 for p in partitions_by_key.values())


def test_committed_offsets_resume_where_the_group_stopped(settings, new_topic):
    topic = new_topic("resume")
    producer = kafka_producer(settings=settings)
    for i in range(10):
        producer.send(topic, str(i).encode())
    producer.flush()
    group = f"g-{topic}"

    def read(n: int) -> list[int]:
        consumer = kafka_consumer(
            topic,
            settings=settings,
            group_id=group,
            auto_offset_reset="earliest",
            consumer_timeout_ms=120_000,  # a hang bound: the loop stops at the count
            max_poll_records=n,
        )
        out = []
        for message in consumer:
            out.append(int(message.value))
            if len(out) == n:
                break
        consumer.commit()
        consumer.close()
        return out

    assert read(4) == [0, 1, 2, 3]
    assert read(6) == [4, 5, 6, 7, 8, 9]


def test_unreachable_kafka_names_the_service(settings):
    with pytest.raises(ServiceUnavailable, match=r"Kafka is down or unreachable at 127\.0\.0\.1:1"):
        kafka_producer(
            settings=replace(settings, kafka_bootstrap="127.0.0.1:1"), bootstrap_timeout_ms=2000
        )
