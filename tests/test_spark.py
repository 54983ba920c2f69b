"""A local Spark session reads Kafka through the connector and writes Postgres over JDBC."""

from __future__ import annotations

import uuid

from kafka.serializer import JsonSerializer
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ytempire.clients import kafka_producer, pg_connect


def test_kafka_to_postgres_through_spark(spark, settings, new_topic):
    topic = new_topic("spark", partitions=2)
    producer = kafka_producer(settings=settings, value_serializer=JsonSerializer())
    events = [{"channel_id": f"c{i % 3}", "views": i} for i in range(30)]
    for event in events:
        producer.send(topic, event)
    producer.flush()
    producer.close()

    schema = T.StructType(
        [T.StructField("channel_id", T.StringType()), T.StructField("views", T.LongType())]
    )
    frame = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .load()
        .select(F.from_json(F.col("value").cast("string"), schema).alias("e"))
        .groupBy("e.channel_id")
        .agg(F.count("*").alias("events"), F.sum("e.views").alias("views"))
    )

    table = f"streaming.spark_test_{uuid.uuid4().hex[:8]}"
    loader = settings.loader
    (
        frame.write.format("jdbc")
        .option("url", settings.jdbc_url())
        .option("dbtable", table)
        .option("user", loader.user)
        .option("password", loader.password)
        .option("driver", "org.postgresql.Driver")
        .mode("overwrite")
        .save()
    )

    with pg_connect("loader", settings=settings) as conn:
        rows = conn.execute(f"select channel_id, events, views from {table} order by 1").fetchall()
        conn.execute(f"drop table {table}")
    expected = {
        c: (
            sum(1 for e in events if e["channel_id"] == c),
            sum(e["views"] for e in events if e["channel_id"] == c),
        )
        for c in ("c0", "c1", "c2")
    }
    assert rows == [(c, *expected[c]) for c in sorted(expected)]
