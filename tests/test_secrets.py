"""No secret leaves its place (issue 25): every output of a failing and a working day, grepped.

The probe found a password in ``YTEMPIRE_REDIS_URL`` printed by ``ytempire
doctor``, in every "Redis is down" error and the webhook's server log, in the
webhook's 503 body, in ``analytics.pipeline_stage_runs.error`` and in the
daily report (page and mail) of a day whose collection failed on Redis.

Here every secret the warehouse is configured with is distinctive -- each
role's PostgreSQL password (on a cluster of the test's own, so the shared
roles keep theirs), the Redis password (a Redis of the test's own with
``requirepass``), the webhook secret, the YouTube API key (the simulator
checks it), the SMTP password -- and one day's work runs twice through the
``ytempire`` commands: with Redis up (the API failing now and then), then
with Redis down. Every output is collected and searched for every secret,
verbatim and percent-encoded: the CLI's stdout and stderr (verbose, so the
libraries log their URLs), the webhook server's log and its HTTP bodies, the
stage and collection rows, the report page, its text and the mail actually
sent (to an SMTP server of the test's own), and the Kafka side topics
(dead letters, alerts). Then ``ytempire_daily`` runs twice under ``airflow
dags test`` (its collection and its report; every other task marked done):
with Redis up, where the Google client logs each URL it requests with its
``key=``, and with Redis down; its console output, task logs and XComs are
searched too (the metadata database's role password and the API's JWT secret
and admin password are distinctive as well).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from kafka.admin import NewTopic

from platform_services.webhook import DELIVERY_HEADER, PATH, SIGNATURE_HEADER, sign
from simulation.network import Network
from simulation.youtube import Fault, YouTubeSimulator
from tests.cli import run_ytempire
from tests.pg_cluster import ThrowawayPostgres, free_port
from tests.read_topic import read_topic
from ytempire.clients import kafka_admin, kafka_producer, pg_connect
from ytempire.db import init_database
from ytempire.events import encode, new_event

pytestmark = [pytest.mark.services, pytest.mark.slow]

DATABASE = "ytempire_secrets_test"
DAY_UP, DAY_DOWN = date(2025, 1, 1), date(2025, 1, 2)
DAG_DAY_UP, DAG_DAY_DOWN = date(2025, 1, 3), date(2025, 1, 4)
# Every task but the collection and the report is marked done without running.
ONLY_COLLECTION_AND_REPORT = r"^(?!collect_youtube$|daily_report$)"
HANG_S = 300.0  # only a hung server fails on it
SECRETS = {
    "YTEMPIRE_PG_ADMIN_PASSWORD": "pgAdmin-S3cret!a1",
    "YTEMPIRE_PG_LOADER_PASSWORD": "loader-S3cret@b2",
    "YTEMPIRE_PG_TRANSFORMER_PASSWORD": "transformer-S3cret#c3",
    "YTEMPIRE_PG_ANALYST_PASSWORD": "analyst-S3cret%d4",
    "YTEMPIRE_WEBHOOK_SECRET": "webhook-S3cret-e5",
    "YTEMPIRE_YOUTUBE_API_KEY": "AIzaApiKey-S3cret-f6",
    "AIRFLOW__SMTP__SMTP_PASSWORD": "smtp-S3cret-g7",
    "YTEMPIRE_AIRFLOW_PG_PASSWORD": "airflowDb-S3cret-i9",
    "YTEMPIRE_AIRFLOW_JWT_SECRET": "jwt-S3cret-j10-long-enough-for-hs512-signing-keys",
    "YTEMPIRE_AIRFLOW_ADMIN_PASSWORD": "admin-S3cret-k11",
}
REDIS_PASSWORD = "redis-S3cret/h8"


def _forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote(secret)}


ALL_FORMS = {form for s in [*SECRETS.values(), REDIS_PASSWORD] for form in _forms(s)}


class ThrowawayRedis:
    """A redis-server of the test's own on a free loopback port, with a password."""

    def __init__(self, password: str) -> None:
        self.password, self.port = password, free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ytempire-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{quote(self.password, safe='')}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--requirepass", self.password, "--save", "", "--appendonly", "no"),
                *("--dir", str(self.dir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + HANG_S
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                assert self.process.poll() is None, "redis-server exited"
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(HANG_S)
            self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Mailbox:
    """An SMTP server on loopback keeping every message it receives (aiosmtpd)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[bytes] = []
        mailbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
                mailbox.messages.append(envelope.original_content or envelope.content)
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)


@pytest.fixture(scope="module")
def outputs(settings, tmp_path_factory) -> Iterator[dict[str, str]]:
    """Every output of the two days, by where it was seen."""
    work = tmp_path_factory.mktemp("secrets")
    found: dict[str, str] = {}
    pg = ThrowawayPostgres(settings.pg_admin_user, SECRETS["YTEMPIRE_PG_ADMIN_PASSWORD"])
    cache = ThrowawayRedis(REDIS_PASSWORD)
    network = Network(channels=4)
    sim = YouTubeSimulator(network, day=DAY_UP, api_key=SECRETS["YTEMPIRE_YOUTUBE_API_KEY"])
    mail = Mailbox()
    admin = kafka_admin(settings=settings)
    tag = uuid.uuid4().hex[:10]
    topics = {k: f"test-secrets-{tag}-{k}" for k in ("events", "dead-letter", "alerts")}
    pg.create().start()
    try:
        cache.start()
        sim.start()
        mail.controller.start()
        admin.create_topics([NewTopic(t, 1, 1) for t in topics.values()])
        admin.wait_for_topics(list(topics.values()))
        s = replace(
            pg.settings(settings, DATABASE),
            pg_admin_password=SECRETS["YTEMPIRE_PG_ADMIN_PASSWORD"],
            pg_loader_password=SECRETS["YTEMPIRE_PG_LOADER_PASSWORD"],
            pg_transformer_password=SECRETS["YTEMPIRE_PG_TRANSFORMER_PASSWORD"],
            pg_analyst_password=SECRETS["YTEMPIRE_PG_ANALYST_PASSWORD"],
            redis_url=cache.url,
        )
        init_database(settings=s)
        _register(network, s)
        env = {
            **SECRETS,
            **pg.environment(DATABASE),
            "YTEMPIRE_REDIS_URL": cache.url,
            "YTEMPIRE_REDIS_KEY_PREFIX": f"test:{tag}:",
            "YTEMPIRE_YOUTUBE_API_URL": sim.url,
            "YTEMPIRE_WEBHOOK_PORT": str(free_port()),
            "YTEMPIRE_LOCAL_DIR": str(work / "local"),
            # the session's conftest points the reports elsewhere; the DAG's go here
            "YTEMPIRE_REPORTS_DIR": str(work / "local" / "reports"),
            "YTEMPIRE_ALERTS_TOPIC": topics["alerts"],
            "YTEMPIRE_REPORT_EMAIL_TO": "owner@example.com",
            "AIRFLOW__SMTP__SMTP_HOST": "127.0.0.1",
            "AIRFLOW__SMTP__SMTP_PORT": str(mail.port),
            "AIRFLOW__SMTP__SMTP_STARTTLS": "False",
        }

        def cli(name: str, *args: str) -> subprocess.CompletedProcess[str]:
            done = run_ytempire("-v", *args, **env)
            found[f"{name}: stdout"], found[f"{name}: stderr"] = done.stdout, done.stderr
            return done

        # --- day one: Redis up, the API failing now and then --------------------------------
        found["doctor, redis up"] = cli("doctor, redis up", "doctor").stdout
        sim.inject(Fault(500, times=2))
        sim.inject(Fault(403, "forbidden", method="videos.list", times=1))
        cli("collect, redis up", "ingest", "youtube", f"--date={DAY_UP}")
        cli("quota, redis up", "quota", f"--date={DAY_UP}")
        _produce(topics["events"], settings)
        cli(
            "land events",
            "ingest",
            "events",
            f"--topic={topics['events']}",
            f"--dead-letter-topic={topics['dead-letter']}",
            f"--pipelines-dir={work / 'dlt'}",
        )

        sim.set_day(DAG_DAY_UP)
        airflow = _airflow(work, s, env)
        found.update(_dag_run("dag, redis up", airflow, DAG_DAY_UP, s, env))

        # --- day two: Redis down --------------------------------------------------------------
        cache.stop()
        cli("doctor, redis down", "doctor")
        cli("quota, redis down", "quota", f"--date={DAY_DOWN}")
        sim.set_day(DAY_DOWN)
        cli("collect, redis down", "ingest", "youtube", f"--date={DAY_DOWN}")
        found.update(_webhook(env, s, work))
        sim.set_day(DAG_DAY_DOWN)
        found.update(_dag_run("dag, redis down", airflow, DAG_DAY_DOWN, s, env))

        # --- the report of the day whose collection failed on Redis, Redis back -----------
        # (with Redis down the report fails outright: reporting.collect reads the quota
        # counter's key unguarded -- left to the report's owner, see the note of issue 25)
        cache.start()
        cli("quality scores", "quality", "scores", f"--date={DAY_DOWN}")
        cli("report", "report", "daily", f"--date={DAY_DOWN}", f"--out={work / 'reports'}")
        for path in sorted((work / "reports").glob("daily-report-*")):
            found[f"report file {path.name}"] = path.read_text()
        for path in sorted((work / "local" / "reports").glob("daily-report-*")):
            found[f"dag report file {path.name}"] = path.read_text()
        for i, message in enumerate(mail.messages):
            found[f"mail {i}"] = message.decode("utf-8", errors="replace")
        found.update(_rows(s))
        for kind in ("dead-letter", "alerts"):
            found[f"topic {kind}"] = "\n".join(
                repr((m.key, m.value, m.headers)) for m in read_topic(topics[kind], settings)
            )
        yield found
    finally:
        mail.controller.stop()
        sim.stop()
        cache.destroy()
        pg.destroy()
        admin.delete_topics([t for t in topics.values() if t in set(admin.list_topics())])
        admin.close()


def _airflow(work: Path, s, env: dict[str, str]):
    from orchestration.airflow_local import (
        AirflowConfig,
        init_metadata_database,
        parse_dbt_project,
    )

    config = AirflowConfig(
        home=work / "airflow",
        database="airflow_secrets_test",
        password=SECRETS["YTEMPIRE_AIRFLOW_PG_PASSWORD"],
        port=free_port(),
        jwt_secret=SECRETS["YTEMPIRE_AIRFLOW_JWT_SECRET"],
        admin_user="admin",
        admin_password=SECRETS["YTEMPIRE_AIRFLOW_ADMIN_PASSWORD"],
    )
    init_metadata_database(config, s)
    parse_dbt_project()  # the manifest the DAG renders from, in this session's dbt target
    return config


def _dag_run(name: str, config, day: date, s, env: dict[str, str]) -> dict[str, str]:
    """``ytempire_daily`` for ``day`` under ``airflow dags test``: its output, logs, XComs."""
    from orchestration.runs import dags_test_day

    result = dags_test_day(
        config,
        day,
        settings=s,
        env={**os.environ, **env, "YTEMPIRE_AIRFLOW_RETRY_DELAY_S": "1"},
        extra_args=["--mark-success-pattern", ONLY_COLLECTION_AND_REPORT],
    )
    found = {f"{name}: console": result.output, f"{name}: states": repr(result.tasks)}
    for path in sorted((config.home / "logs").rglob("*")):
        if path.is_file():
            found[f"{name}: log {path.relative_to(config.home)}"] = path.read_text(errors="replace")
    with pg_connect("admin", config.database, settings=s) as conn:
        rows = conn.execute("select x::text from xcom x").fetchall()
    found[f"{name}: xcom"] = "\n".join(r[0] for r in rows)
    return found


def _register(network: Network, s) -> None:
    rows = [(c.channel_id, c.title, c.niche) for c in network.channels]
    with pg_connect("loader", settings=s) as conn, conn.cursor() as cur:
        cur.executemany(
            "insert into ytempire.channels (channel_id, title, niche) values (%s, %s, %s)", rows
        )


def _produce(topic: str, settings) -> None:
    producer = kafka_producer(settings=settings)
    channel = "UC" + "s" * 22
    event = new_event("user_action", channel, {"user_id": "u1", "action": "view"})
    for value in (encode(event), b"{not json", b'{"event_type": "video_teleported"}'):
        producer.send(topic, value=value)
    producer.flush()
    producer.close()


def _webhook(env: dict[str, str], s, work: Path) -> dict[str, str]:
    """``ytempire serve webhook`` with Redis down: a signed delivery, its answer, the log."""
    video_id, channel = uuid.uuid4(), "UC" + "w" * 22
    with pg_connect("loader", settings=s) as conn:
        conn.execute("insert into ytempire.channels (channel_id) values (%s)", (channel,))
        conn.execute(
            "insert into ytempire.videos (video_id, channel_id, youtube_video_id) "
            "values (%s, %s, 'AAAAAAAAAAA')",
            (video_id, channel),
        )
    log = work / "webhook.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "ytempire_cli.main", "serve", "webhook"],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{env['YTEMPIRE_WEBHOOK_PORT']}"
    found: dict[str, str] = {}
    try:
        _wait_healthy(base, server)
        event = new_event(
            "video_uploaded", channel, {"youtube_video_id": "AAAAAAAAAAA"}, video_id=video_id
        )
        body, delivery = encode(event), uuid.uuid4().hex
        secret = SECRETS["YTEMPIRE_WEBHOOK_SECRET"]
        request = urllib.request.Request(
            base + PATH,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                DELIVERY_HEADER: delivery,
                SIGNATURE_HEADER: sign(body, secret, delivery_id=delivery),
            },
        )
        try:
            urllib.request.urlopen(request, timeout=HANG_S)
            raise AssertionError("the delivery succeeded with Redis down")
        except urllib.error.HTTPError as answer:
            found["webhook 503 status"] = str(answer.code)
            found["webhook 503 body"] = answer.read().decode()
    finally:
        server.terminate()
        server.wait(HANG_S)
    found["webhook server log"] = log.read_text()
    return found


def _wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + HANG_S
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        assert server.poll() is None, "the webhook server exited"
        assert time.monotonic() < deadline, "the webhook server did not answer /healthz"
        time.sleep(0.1)


def _rows(s) -> dict[str, str]:
    found = {}
    with pg_connect("admin", settings=s) as conn:
        for table in ("analytics.pipeline_stage_runs", "raw_youtube.collection_runs"):
            if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is None:
                continue
            rows = conn.execute(f"select t::text from {table} t").fetchall()
            found[f"rows {table}"] = "\n".join(r[0] for r in rows)
    return found


def test_every_output_was_seen(outputs):
    """The search below is not vacuous: the failures happened and were reported."""
    assert "redis://:***@127.0.0.1:" in outputs["doctor, redis up"]
    assert (
        "Redis is down or unreachable at redis://:***@127.0.0.1:"
        in outputs["doctor, redis down: stdout"]
    )
    assert "Redis is down or unreachable" in outputs["collect, redis down: stderr"]
    assert "Redis is down or unreachable" in outputs["quota, redis down: stderr"]
    assert outputs["webhook 503 status"] == "503"
    assert json.loads(outputs["webhook 503 body"])["service"] == "Redis"
    assert "Redis is down or unreachable" in outputs["webhook server log"]
    assert ",failed," in outputs["rows analytics.pipeline_stage_runs"]
    assert "Redis is down or unreachable" in outputs["rows analytics.pipeline_stage_runs"]
    report = outputs["report: stdout"] + outputs["report: stderr"]
    assert any(k.startswith("report file") and k.endswith(".html") for k in outputs), report
    assert any(k.startswith("mail ") for k in outputs), report
    text = outputs[f"report file daily-report-{DAY_DOWN}.txt"]
    assert "Redis is down or unreachable at redis://:***@127.0.0.1:" in text  # the failed stage
    assert outputs["topic dead-letter"]
    up, down = outputs["dag, redis up: console"], outputs["dag, redis down: console"]
    assert "collect_youtube" in up
    assert "Redis is down or unreachable" in down + "".join(
        v for k, v in outputs.items() if k.startswith("dag, redis down: log")
    )
    assert any(k.startswith("dag report file") for k in outputs)
    assert "headline" in outputs["dag, redis up: xcom"]  # the report task's XCom
    # the calls carrying the API key failed and were reported (the collector names the method
    # and Google's reason, never the URL: googleapiclient logs URLs at DEBUG only)
    assert "(HTTP 500 " in outputs["collect, redis up: stderr"]


def test_no_output_holds_a_secret(outputs):
    leaks = {
        where: sorted(form for form in ALL_FORMS if form in text) for where, text in outputs.items()
    }
    assert {where: found for where, found in leaks.items() if found} == {}
