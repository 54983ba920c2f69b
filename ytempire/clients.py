"""Client factories for PostgreSQL, Redis, Kafka and Spark.

Every component gets its connections here, configured from
:mod:`ytempire.settings`. A service that cannot be reached raises
:class:`~ytempire.errors.ServiceUnavailable` naming it, instead of the
driver's own exception, so commands can tell the user what to do next.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import redis

from ytempire.errors import ServiceUnavailable, YTEmpireError
from ytempire.settings import Settings, get_settings
from ytempire.topics import COMPRESSION

if TYPE_CHECKING:
    from confluent_kafka import Consumer, Producer
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
    from pyspark.sql import SparkSession

# How long a client waits for a service before calling it down.
CONNECT_TIMEOUT_S = 5

_UNREACHABLE_MARKERS = (
    "connection refused",
    "could not connect",
    "timeout expired",
    "no such file or directory",
    "could not translate host name",
    "server closed the connection",
    "the database system is starting up",
    "the database system is shutting down",
)
# What a session says when its server went away under it (a restart, a crash).
_CONNECTION_LOST_MARKERS = (
    *_UNREACHABLE_MARKERS,
    "terminating connection due to administrator command",
    "server closed the connection unexpectedly",
    "connection already closed",
    "the connection is closed",
    "the connection is lost",
    "consuming input failed",
    "ssl syscall error: eof detected",
)


def _settings(settings: Settings | None) -> Settings:
    return settings or get_settings()


# --- PostgreSQL ---------------------------------------------------------------------------


def pg_conninfo(
    role: str = "loader", database: str | None = None, settings: Settings | None = None
) -> str:
    """A libpq connection string for one of the warehouse roles."""
    s = _settings(settings)
    creds = s.role(role)
    return psycopg.conninfo.make_conninfo(
        host=s.pg_host,
        port=s.pg_port,
        dbname=database or s.pg_database,
        user=creds.user,
        password=creds.password,
        connect_timeout=CONNECT_TIMEOUT_S,
        application_name="ytempire",
    )


def dlt_credentials(role: str = "loader", settings: Settings | None = None) -> dict[str, Any]:
    """A warehouse role's credentials for dlt's postgres destination, as fields.

    Fields, not a connection string: dlt parses a string with SQLAlchemy (half a
    second of imports) while the pipeline is made; given fields, that import waits
    for the first load. Keys are those of dlt's ``PostgresCredentials``.
    """
    s = _settings(settings)
    creds = s.role(role)
    return {
        "database": s.pg_database,
        "username": creds.user,
        "password": creds.password,
        "host": s.pg_host,
        "port": s.pg_port,
        "connect_timeout": CONNECT_TIMEOUT_S,
    }


def pg_connect(
    role: str = "loader",
    database: str | None = None,
    *,
    autocommit: bool = False,
    settings: Settings | None = None,
) -> psycopg.Connection[Any]:
    """Open a psycopg 3 connection as ``role`` (admin, loader, transformer, analyst)."""
    s = _settings(settings)
    try:
        return psycopg.connect(pg_conninfo(role, database, s), autocommit=autocommit)
    except psycopg.OperationalError as exc:
        message = str(exc).strip()
        where = f"{s.pg_host}:{s.pg_port}"
        if any(marker in message.lower() for marker in _UNREACHABLE_MARKERS):
            raise ServiceUnavailable("PostgreSQL", where, message) from exc
        raise YTEmpireError(
            f"PostgreSQL at {where} refused role {s.role(role).user!r} on database "
            f"{database or s.pg_database!r}: {message}. Next: run `ytempire db init` "
            "(or `make setup`) to create the database and roles, and check the "
            "YTEMPIRE_PG_* variables."
        ) from exc


def pg_connection_lost(message: str) -> bool:
    """Whether a PostgreSQL error text (psycopg's, dbt's) says the server went away."""
    lowered = message.lower()
    return any(marker in lowered for marker in _CONNECTION_LOST_MARKERS)


def pg_unavailable(
    cause: object, doing: str, settings: Settings | None = None
) -> ServiceUnavailable:
    """The project's error for PostgreSQL lost while ``doing`` (e.g. "dbt build")."""
    s = _settings(settings)
    return ServiceUnavailable(
        "PostgreSQL",
        f"{s.pg_host}:{s.pg_port}",
        cause,
        hint=(
            f"the server went away during {doing} (a restart or a crash); once "
            "`ytempire doctor` shows postgres up, run the command again (its stage is "
            "recorded failed, and a rerun starts a new attempt)"
        ),
    )


@contextmanager
def pg_cursor(
    role: str = "loader", database: str | None = None, settings: Settings | None = None
) -> Iterator[psycopg.Cursor[Any]]:
    """A cursor in one transaction: committed on success, rolled back on error."""
    with pg_connect(role, database, settings=settings) as conn, conn.cursor() as cur:
        yield cur


# --- Redis --------------------------------------------------------------------------------


def redis_client(*, check: bool = False, settings: Settings | None = None) -> redis.Redis:
    """A Redis client (str responses). With ``check``, ping it now and fail clearly."""
    s = _settings(settings)
    client = redis.Redis.from_url(
        s.redis_url,
        decode_responses=True,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=CONNECT_TIMEOUT_S * 2,
        health_check_interval=30,
    )
    if check:
        try:
            client.ping()
        except redis.RedisError as exc:
            raise ServiceUnavailable("Redis", s.redis_url, exc) from exc
    return client


# --- Kafka --------------------------------------------------------------------------------


def _kafka_config(s: Settings, overrides: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap_servers": s.kafka_bootstrap.split(","),
        "bootstrap_timeout_ms": CONNECT_TIMEOUT_S * 1000,
        "client_id": "ytempire",
    }
    config.update(overrides)
    return config


def _kafka_unavailable(s: Settings, exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable("Kafka", s.kafka_bootstrap, exc)


def kafka_producer(settings: Settings | None = None, **overrides: Any) -> KafkaProducer:
    """A kafka-python producer; ``overrides`` are KafkaProducer keyword arguments.

    Acks from all in-sync replicas; messages compressed with the platform's codec
    (:data:`ytempire.topics.COMPRESSION`).
    """
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    s = _settings(settings)
    try:
        return KafkaProducer(
            **_kafka_config(s, {"acks": "all", "compression_type": COMPRESSION, **overrides})
        )
    except KafkaError as exc:
        raise _kafka_unavailable(s, exc) from exc


def librdkafka_producer(settings: Settings | None = None, **overrides: Any) -> Producer:
    """A confluent-kafka (librdkafka) producer; ``overrides`` are librdkafka properties.

    For a hot path that sends a message per event: ``produce`` queues in C
    and librdkafka's own threads batch, compress and send without the GIL
    (kafka-python's ``send`` costs ~30 us of Python a message). Acks from all
    in-sync replicas and the idempotent producer (no duplicate or reordering
    from its own retries); the platform's codec
    (:data:`ytempire.topics.COMPRESSION`). It connects lazily: an unreachable
    broker shows as failed deliveries after ``message.timeout.ms`` (120 s,
    kafka-python's ``delivery_timeout_ms``), so a caller that must know checks
    each delivery.
    Keyed messages go to the partition kafka-python and the Java client pick
    (murmur2; librdkafka's own default hashes with CRC32).
    """
    from confluent_kafka import Producer

    return Producer(
        _librdkafka_config(
            _settings(settings),
            {
                "acks": "all",
                "enable.idempotence": True,
                "message.timeout.ms": 120_000,
                "partitioner": "murmur2_random",
                "compression.type": COMPRESSION,
                **overrides,
            },
        )
    )


def _librdkafka_config(s: Settings, properties: dict[str, Any]) -> dict[str, Any]:
    """The project's librdkafka client properties, then ``properties`` (which win)."""
    return {
        "bootstrap.servers": s.kafka_bootstrap,
        "client.id": "ytempire",
        # librdkafka's log lines through Python logging (quiet unless asked), not stderr
        "logger": logging.getLogger("confluent_kafka"),
        **properties,
    }


def librdkafka_consumer(
    group_id: str, settings: Settings | None = None, **overrides: Any
) -> Consumer:
    """A confluent-kafka (librdkafka) consumer; ``overrides`` are librdkafka properties.

    For reading many messages: librdkafka's threads fetch and decompress
    without the GIL and each message is decoded in C (kafka-python decodes
    records in Python: 11.5 against 7.3 us of CPU a message, gzip included,
    measured for the Kafka landing; 2.1 us with zstd). librdkafka requires a ``group_id`` even
    for a consumer that only ``assign``s partitions; nothing is committed
    unless the caller does. It connects lazily, like the producer.
    """
    from confluent_kafka import Consumer

    return Consumer(
        _librdkafka_config(
            _settings(settings),
            {
                "group.id": group_id,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                **overrides,
            },
        )
    )


def kafka_consumer(
    *topics: str, settings: Settings | None = None, **overrides: Any
) -> KafkaConsumer:
    """A kafka-python consumer subscribed to ``topics`` (none: assign partitions yourself)."""
    from kafka import KafkaConsumer
    from kafka.errors import KafkaError

    s = _settings(settings)
    try:
        return KafkaConsumer(
            *topics, **_kafka_config(s, {"enable_auto_commit": False, **overrides})
        )
    except KafkaError as exc:
        raise _kafka_unavailable(s, exc) from exc


def kafka_admin(settings: Settings | None = None, **overrides: Any) -> KafkaAdminClient:
    """A kafka-python admin client."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    s = _settings(settings)
    try:
        return KafkaAdminClient(**_kafka_config(s, overrides))
    except KafkaError as exc:
        raise _kafka_unavailable(s, exc) from exc


# --- Spark --------------------------------------------------------------------------------


def spark_connector_jars(settings: Settings | None = None) -> list[Path]:
    """The Kafka connector and JDBC driver jars resolved by ``jvm/pom.xml``."""
    s = _settings(settings)
    folder = s.jars_dir / "spark-connectors"
    jars = sorted(folder.glob("*.jar"))
    if not any(j.name.startswith("spark-sql-kafka") for j in jars):
        raise YTEmpireError(
            f"the Spark Kafka connector is missing from {folder}. "
            "Next: run `make jars` (mvn -f jvm/pom.xml package)."
        )
    return jars


# The driver's console logging (errors only, unless `ytempire -v`).
SPARK_LOG4J2 = Path(__file__).with_name("spark-log4j2.properties")
# The driver JVM compiles with C1 only (no C2). In local mode the driver is the executor too,
# and C2's compiler threads cost more CPU than its faster code saves over a job's first batches:
# issue 26's A/B (10 sink calls of 300k events a variant, alternated processes; streaming/README)
# measured JVM CPU at session start 5.5 against 10.3 s, on the first batch 6.0 against 10.6 s,
# warm 2.3 against 3.0 s a call (one C2 process reached C1's cost by its fourth call; none went
# below it). Four bench runs alternating the two did not rank them in wall time (load 5-9).
# The builder hands it to spark-submit, which starts the JVM with it (its input arguments show
# it); a cluster's executors keep their own options.
DRIVER_JIT = "-XX:TieredStopAtLevel=1"


def spark_session(
    app_name: str = "ytempire", settings: Settings | None = None, **conf: str
) -> SparkSession:
    """A SparkSession on the configured master with the connector jars on its classpath."""
    from pyspark.sql import SparkSession

    s = _settings(settings)
    log_level = "WARN" if logging.getLogger().isEnabledFor(logging.INFO) else "ERROR"
    java_options = (
        f"-Dlog4j2.configurationFile=file:{SPARK_LOG4J2} -Dytempire.spark.log.level={log_level} "
        + DRIVER_JIT
    )
    builder = (
        SparkSession.builder.appName(app_name)
        .config("spark.driver.extraJavaOptions", java_options)
        .master(s.spark_master)
        .config("spark.jars", ",".join(str(j) for j in spark_connector_jars(s)))
        .config("spark.sql.shuffle.partitions", str(s.spark_shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
    )
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel(log_level)
    return session
