"""Pinned versions that must agree across Python and the JVM side."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from importlib.metadata import version

from ytempire.settings import PROJECT_ROOT, Settings

POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def _pom_property(name: str) -> str:
    root = ET.parse(PROJECT_ROOT / "jvm" / "pom.xml").getroot()
    node = root.find(f"m:properties/m:{name}", POM_NS)
    assert node is not None
    assert node.text
    return node.text


def test_spark_connector_matches_pyspark():
    assert _pom_property("spark.version") == version("pyspark")


def test_resolved_connector_jar_matches_pyspark():
    jars = (Settings().jars_dir / "spark-connectors").glob("spark-sql-kafka-0-10_2.13-*.jar")
    assert [j.name for j in jars] == [f"spark-sql-kafka-0-10_2.13-{version('pyspark')}.jar"]


def test_dbt_core_is_below_1_12():
    major, minor = (int(p) for p in version("dbt-core").split(".")[:2])
    assert (major, minor) == (1, 11)


def test_kafka_broker_is_4x():
    assert _pom_property("kafka.version").startswith("4.")
