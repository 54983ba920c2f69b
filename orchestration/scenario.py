"""A disposable warehouse fed by the simulators, run directly or through ``ytempire_daily``.

The DAG test and ``bench/airflow_daily.py`` both need the same thing: a quota
day of simulated YouTube statistics and Kafka events, processed once by the
``ytempire`` commands (the direct run) and once by the DAG (through Airflow),
each into a warehouse database of its own, so that the two sets of marts can
be compared and the two wall times set side by side.

Everything a run touches is its own: databases (``*_test``), Kafka topics,
Redis key prefix, dlt folders and Spark checkpoints under ``work_dir``.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

from orchestration.airflow_local import (
    AirflowConfig,
    init_metadata_database,
    load_or_create_secrets,
)
from ytempire.clients import kafka_admin, pg_connect, redis_client
from ytempire.db import drop_database, init_database
from ytempire.settings import Settings

DAY = date(2025, 1, 1)  # the simulator's epoch day
EVENTS = 4_000
CHANNELS = 25
API_KEY = "scenario-key"
# Columns that say when a build ran, not what the data says: the stamp of each row and
# the channel snapshot's version id and when each version was recorded and superseded
# (dbt snapshot metadata; the business-date validity, valid_from_date/valid_to_date,
# is data and is compared). Two warehouses built minutes apart differ there only.
RUN_TIME_COLUMNS = frozenset(
    {"built_at", "channel_version_id", "valid_from", "valid_to", "recorded_at", "superseded_at"}
)
# Each relation's rows, compared without the run-time columns.
MARTS = (
    "dim_channels",
    "dim_videos",
    "fct_channel_daily_metrics",
    "fct_video_daily_metrics",
    "fct_video_settled_totals",
    "fct_revenue_estimates",
    "fct_video_lifecycle",
    "mv_channel_performance",
    "mv_video_analytics",
    "mv_channel_revenue_daily",
    "mv_niche_revenue_daily",
)


@dataclass
class Scenario:
    """Names and folders of one scenario; :func:`scenario` creates and removes them."""

    settings: Settings
    work_dir: Path
    simulator: Any  # simulation.youtube.YouTubeSimulator, serving one day at a time
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    channels: int = CHANNELS
    events_per_day: int = EVENTS

    @property
    def api_url(self) -> str:
        return str(self.simulator.url)

    def produce_events(self, day: date) -> int:
        """Send ``events_per_day`` platform events of ``day`` (09:00-21:00 UTC); their count."""
        from simulation.bursts import generate, produce

        return produce(
            generate(
                self.events_per_day,
                start=datetime.combine(day, clock(9), tzinfo=UTC),
                span=timedelta(hours=12),
                channels=self.channels,
                seed=7 + (day - DAY).days,
            ),
            video_topic=self.topics["video-events"],
            channel_topic=self.topics["channel-events"],
            settings=self.settings,
        )

    @property
    def topics(self) -> dict[str, str]:
        kinds = (
            "video-events",
            "channel-events",
            "user-events",
            "dead-letter",
            "alerts",
            "anomaly-alerts",
        )
        return {kind: f"scenario-{self.tag}-{kind}" for kind in kinds}

    def database(self, kind: str) -> str:
        return f"{self.settings.pg_database.removesuffix('_test')}_{kind}_test"

    def env(self, kind: str) -> dict[str, str]:
        """Environment of a run into database ``kind`` (``direct`` or ``dag``)."""
        t = self.topics
        return {
            "YTEMPIRE_PG_DATABASE": self.database(kind),
            "YTEMPIRE_YOUTUBE_API_URL": self.api_url,
            "YTEMPIRE_YOUTUBE_API_KEY": API_KEY,
            "YTEMPIRE_REDIS_KEY_PREFIX": f"scenario:{self.tag}:{kind}:",
            "YTEMPIRE_EVENTS_TOPICS": ",".join(
                [t["video-events"], t["channel-events"], t["user-events"]]
            ),
            "YTEMPIRE_EVENTS_DEAD_LETTER_TOPIC": t["dead-letter"],
            "YTEMPIRE_ALERTS_TOPIC": t["alerts"],
            "YTEMPIRE_ANOMALY_ALERTS_TOPIC": t["anomaly-alerts"],
            "YTEMPIRE_STREAM_TOPICS": f"{t['video-events']},{t['channel-events']}",
            "YTEMPIRE_STREAM_CHECKPOINT_DIR": str(self.work_dir / kind / "checkpoints"),
            "YTEMPIRE_DLT_PIPELINES_DIR": str(self.work_dir / kind / "dlt"),
            "YTEMPIRE_AIRFLOW_RETRY_DELAY_S": "1",
        }

    def airflow_config(self, port: int | None = None) -> AirflowConfig:
        """The scenario's own Airflow: home, metadata database, secrets (and ``port``).

        The role and its password are the local stack's (one airflow role per
        cluster); the JWT secret and admin password are generated into the
        scenario's home, as setup does for an installation.
        """
        home = self.work_dir / "airflow"
        generated = load_or_create_secrets(home)
        base = AirflowConfig.from_env(self.settings)
        return replace(
            base,
            home=home,
            database=self.database("airflow"),
            port=base.port if port is None else port,
            jwt_secret=generated["jwt_secret"],
            admin_password=generated["admin_password"],
        )

    def airflow_variables(self, port: int) -> dict[str, str]:
        """``YTEMPIRE_AIRFLOW_*`` that make ``ytempire airflow ...`` use :meth:`airflow_config`."""
        config = self.airflow_config(port)
        return {
            "YTEMPIRE_AIRFLOW_HOME": str(config.home),
            "YTEMPIRE_AIRFLOW_DATABASE": config.database,
            "YTEMPIRE_AIRFLOW_PORT": str(port),
        }


@contextmanager
def scenario(
    settings: Settings,
    work_dir: Path,
    *,
    events: bool = True,
    kinds: Sequence[str] = ("direct", "dag"),
    channels: int = CHANNELS,
    events_per_day: int = EVENTS,
) -> Iterator[Scenario]:
    """Create the scenario's databases (one warehouse per name in ``kinds``), topics,
    simulator of ``channels`` channels and (``events``) :data:`DAY`'s events; remove
    them after. The simulator serves :data:`DAY` until told otherwise."""
    from kafka.admin import NewTopic

    from simulation.network import Network
    from simulation.youtube import YouTubeSimulator

    network = Network(channels=channels)
    sim = YouTubeSimulator(network, day=DAY, api_key=API_KEY)
    sim.start()
    scn = Scenario(settings, work_dir, sim, channels=channels, events_per_day=events_per_day)
    admin = kafka_admin(settings=settings)
    names = list(scn.topics.values())
    try:
        for kind in kinds:
            own = replace(settings, pg_database=scn.database(kind))
            drop_database(own.pg_database, settings=own)
            init_database(settings=own)
            _register_channels(network, own)
        admin.create_topics([NewTopic(n, num_partitions=1, replication_factor=1) for n in names])
        admin.wait_for_topics(names)
        if events:
            scn.produce_events(DAY)
        drop_database(scn.database("airflow"), settings=settings)
        init_metadata_database(scn.airflow_config(), settings)
        yield scn
    finally:
        sim.stop()
        admin.delete_topics([n for n in names if n in set(admin.list_topics())])
        admin.close()
        redis = redis_client(settings=settings)
        keys = list(redis.scan_iter(f"scenario:{scn.tag}:*"))
        if keys:
            redis.delete(*keys)
        for kind in (*kinds, "airflow"):
            drop_database(scn.database(kind), settings=settings)


def _register_channels(network: Any, settings: Settings) -> None:
    rows = [(c.channel_id, c.title, c.niche) for c in network.channels]
    with pg_connect("loader", settings=settings) as conn, conn.cursor() as cur:
        cur.executemany(
            "insert into ytempire.channels (channel_id, title, niche) values (%s, %s, %s) "
            "on conflict (channel_id) do nothing",
            rows,
        )


def run_direct(
    scn: Scenario,
    base_env: Mapping[str, str],
    day: date = DAY,
    *,
    kind: str = "direct",
    only: Sequence[str] | None = None,
) -> dict[str, float]:
    """The day's work with the ``ytempire`` commands and one ``dbt build``; seconds per step.

    The same stages as the DAG, in its order: landings, the raw checkpoint, the
    build, the marts checkpoint, scores, anomalies, dbt docs and the report;
    ``only`` names a subset (keys of the result), ``kind`` the database.
    """
    env = {**base_env, **scn.env(kind)}
    topics = scn.topics
    on = f"--date={day.isoformat()}"
    steps = {
        "collect youtube": [
            "ingest",
            "youtube",
            on,
            f"--pipelines-dir={env['YTEMPIRE_DLT_PIPELINES_DIR']}",
        ],
        "land kafka events": [
            "ingest",
            "events",
            *[f"--topic={topics[k]}" for k in ("video-events", "channel-events", "user-events")],
            f"--dead-letter-topic={topics['dead-letter']}",
            f"--pipelines-dir={env['YTEMPIRE_DLT_PIPELINES_DIR']}",
        ],
        "spark windows": ["stream", "windows", "--available-now"],
        "validate raw": ["quality", "validate", "--checkpoint=raw", on],
        "dbt build": ["warehouse", "build"],
        "validate marts": ["quality", "validate", "--checkpoint=marts", on],
        "quality scores": ["quality", "scores", on],
        "anomalies": ["quality", "anomalies", on],
        "dbt docs": ["warehouse", "docs"],
        "report": ["report", "daily", on],
    }
    unknown = set(only or ()) - set(steps)
    if unknown:
        raise KeyError(f"no direct step {', '.join(sorted(unknown))}; known: {', '.join(steps)}")
    seconds: dict[str, float] = {}
    for name, args in steps.items():
        if only is not None and name not in only:
            continue
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "ytempire_cli.main", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"direct run: {name} failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
        seconds[name] = time.monotonic() - started
    return seconds


def marts(settings: Settings, database: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every mart's rows (sorted, without :data:`RUN_TIME_COLUMNS`) in ``database``."""
    with pg_connect("transformer", database, settings=settings) as conn:
        # the public marts and those analysts do not read (dbt_project/README.md)
        conn.execute("set search_path = marts, marts_internal")
        result = {}
        for relation in MARTS:
            cursor = conn.execute(f"select * from {relation}")
            names = [column.name for column in cursor.description or []]
            kept = [i for i, name in enumerate(names) if name not in RUN_TIME_COLUMNS]
            rows = (tuple(row[i] for i in kept) for row in cursor)
            result[relation] = sorted(rows, key=repr)
    return result


@dataclass
class AirflowStack:
    """A scenario's running local Airflow (``ytempire airflow start``) and how to reach it."""

    config: AirflowConfig
    env: dict[str, str]
    start_output: str


def free_airflow_port() -> int:
    """A loopback port P whose derived ports (:data:`PORT_OFFSETS`) are free as well."""
    import socket

    from orchestration.airflow_local import PORT_OFFSETS

    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + max(PORT_OFFSETS.values()) > 65535:
            continue
        taken = False
        for offset in set(PORT_OFFSETS.values()) - {0}:
            with socket.socket() as other:
                try:
                    other.bind(("127.0.0.1", port + offset))
                except OSError:
                    taken = True
        if not taken:
            return port


@contextmanager
def airflow_stack(
    scn: Scenario, base_env: Mapping[str, str], kind: str = "dag", parallelism: int = 6
) -> Iterator[AirflowStack]:
    """Start the scenario's Airflow with ``ytempire airflow start`` (its tasks work on
    warehouse ``kind``) on a free port; stop it with ``ytempire airflow stop`` after.

    Raises ``RuntimeError`` with the command's output when it does not start.
    """
    import psutil

    from orchestration.airflow_local import PROCESSES

    port = free_airflow_port()
    env = {
        **base_env,
        **scn.env(kind),
        **scn.airflow_variables(port),
        "YTEMPIRE_AIRFLOW_PARALLELISM": str(parallelism),
    }
    for variable in ("YTEMPIRE_AIRFLOW_JWT_SECRET", "YTEMPIRE_AIRFLOW_ADMIN_PASSWORD"):
        env.pop(variable, None)  # the scenario's home holds generated ones
    config = replace(scn.airflow_config(port), parallelism=parallelism)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ytempire_cli.main", "airflow", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    started = cli("start", "--no-init")
    pid_files = [config.home / f"{name}.pid" for name in PROCESSES]
    try:
        if started.returncode != 0:
            raise RuntimeError(f"ytempire airflow start failed:\n{started.stdout}{started.stderr}")
        yield AirflowStack(config, env, started.stdout + started.stderr)
    finally:
        pids = [int(f.read_text()) for f in pid_files if f.exists()]
        cli("stop")
        alive = [psutil.Process(p) for p in pids if psutil.pid_exists(p)]
        psutil.wait_procs(alive, timeout=600)
