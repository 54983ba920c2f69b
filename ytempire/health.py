"""Health checks behind ``ytempire doctor``: is each service up, and which version.

Each check returns a :class:`Health`; none raises. A down service is reported
with what failed, where, and what to do next.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version

from ytempire.clients import kafka_admin, pg_connect, redis_client, spark_connector_jars
from ytempire.errors import YTEmpireError
from ytempire.redaction import redact_text, redact_url
from ytempire.settings import Settings
from ytempire.topics import ALL_TOPICS


@dataclass(frozen=True)
class Health:
    service: str
    ok: bool
    version: str
    detail: str


def _guard(service: str, check: Callable[[], Health]) -> Health:
    try:
        return check()
    except YTEmpireError as exc:
        return Health(service, False, "-", redact_text(str(exc)))
    except Exception as exc:  # a check must report, never crash doctor
        return Health(service, False, "-", redact_text(f"{type(exc).__name__}: {exc}"))


def check_postgres(s: Settings) -> Health:
    def check() -> Health:
        with pg_connect("loader", settings=s) as conn:
            server = conn.execute("show server_version").fetchone()[0]  # type: ignore[index]
            schemas = {
                row[0] for row in conn.execute("select nspname from pg_namespace").fetchall()
            }
        missing = {"raw_youtube", "raw_events", "ytempire", "marts", "analytics"} - schemas
        if missing:
            return Health(
                "postgres",
                False,
                server,
                f"schemas missing: {', '.join(sorted(missing))}. Next: run `ytempire db init`.",
            )
        return Health("postgres", True, server, f"{s.pg_host}:{s.pg_port}/{s.pg_database}")

    return _guard("postgres", check)


def check_redis(s: Settings) -> Health:
    def check() -> Health:
        info = redis_client(check=True, settings=s).info("server")
        return Health("redis", True, str(info["redis_version"]), redact_url(s.redis_url))

    return _guard("redis", check)


def check_kafka(s: Settings) -> Health:
    def check() -> Health:
        admin = kafka_admin(settings=s, request_timeout_ms=10_000)
        try:
            cluster = admin.describe_cluster()
            existing = set(admin.list_topics())
            brokers = cluster.get("brokers", [])
            # kafka-python infers the version from the APIs a broker supports.
            versions = admin.get_broker_version_data(brokers[0]["broker_id"]) if brokers else None
        finally:
            admin.close()
        broker_version = versions.broker_version_str if versions else "?"
        missing = [t.name for t in ALL_TOPICS if t.name not in existing]
        if missing:
            return Health(
                "kafka",
                False,
                broker_version,
                f"topics missing: {', '.join(missing)}. Next: run `ytempire topics create`.",
            )
        return Health(
            "kafka",
            True,
            broker_version,
            f"{s.kafka_bootstrap}, {len(brokers)} broker(s), cluster {cluster['cluster_id']}, "
            f"{len(ALL_TOPICS)} topics",
        )

    return _guard("kafka", check)


def check_spark(s: Settings) -> Health:
    def check() -> Health:
        java = shutil.which("java")
        if java is None:
            return Health("spark", False, "-", "java not found on PATH. Next: run `make setup`.")
        jvm = subprocess.run(
            [java, "-version"], capture_output=True, text=True, check=False, timeout=30
        ).stderr.splitlines()[0]
        jars = spark_connector_jars(s)
        connector = next(j.name for j in jars if j.name.startswith("spark-sql-kafka"))
        return Health(
            "spark",
            True,
            version("pyspark"),
            f"master {s.spark_master}; {connector}; {jvm.strip()}",
        )

    return _guard("spark", check)


CHECKS: tuple[Callable[[Settings], Health], ...] = (
    check_postgres,
    check_redis,
    check_kafka,
    check_spark,
)


def run_checks(s: Settings) -> list[Health]:
    return [check(s) for check in CHECKS]
