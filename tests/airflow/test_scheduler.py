"""``ytempire_daily`` through Airflow's own scheduler, end to end, on a stack of its own.

One module-scoped scenario (``orchestration.scenario``: a simulated network of
3 channels, its YouTube API and Kafka events) and one local Airflow started
with ``ytempire airflow start`` (api-server, scheduler, dag-processor,
triggerer; LocalExecutor) on a free port, with its own home, metadata database
and generated secrets. Three quota days run in a row through the scheduler,
each also worked directly (the ``ytempire`` commands and one ``dbt build``)
into a second warehouse:

1. day 1 is triggered from the UI's trigger form (headless Chromium): its
   ``quota_day`` param, the run noted with the day, every task green in the
   grid (screenshot ``test-artifacts/airflow_grid.png``), the dbt docs open;
2. day 2 has a failing dbt test (a negative subscriber count): the model's
   test task fails after its retries, what reads the model is
   ``upstream_failed`` (a test of two models too, and no other task fails),
   the run fails; after the fix only the failed tasks are cleared and re-run,
   and the run succeeds;
3. day 3 is caught up by a backfill (``airflow backfill create``, as the
   README's "catch up a missed week"), after YouTube has moved on to the next
   day: its collection leaves the collected day alone; its dbt producer is
   killed (SIGKILL) mid-build, held at a locked model so that where it dies
   does not depend on speed: Airflow retries it, the unfinished model's tasks
   build their own model, the run succeeds.

After each day the marts equal the direct run's. A catalog watcher reads the
warehouse's relations throughout and never finds one missing (a rebuilt view
must not drop the views built on it). Last, a failed raw expectation stops dbt.
The verdicts wait on recorded state (run and task states, XComs, locks, the
catalog), never on elapsed time. Cost: two triggered runs, a backfilled run
and two re-runs through the scheduler, three direct days.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest

from orchestration.airflow_local import PROCESSES, AirflowConfig, run_airflow
from orchestration.runs import (
    DAG_ID,
    AirflowApi,
    DagRunResult,
    read_day,
    run_day,
    wait_for_run,
)
from orchestration.scenario import DAY, Scenario, airflow_stack, marts, run_direct, scenario
from orchestration.watchers import credit_detached_tests
from tests.catalog import PROJECT_SCHEMAS, TRANSIENT
from ytempire.clients import pg_connect
from ytempire.dbt_runner import published_manifest
from ytempire.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.services]

DAYS = [DAY + timedelta(days=n) for n in range(3)]
# The smallest network that still has every case (a channel to break, models of every
# kind): what the test proves does not grow with the network, its cost does.
CHANNELS, EVENTS = 3, 300
DIRECT_STEPS = ("collect youtube", "land kafka events", "dbt build")
CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright never downloads a browser here
CHECK_ICON = "M20 6 9 17l-5-5"  # the success badge's check mark in Airflow 3's grid
# A model whose test fails on day 2: its one task (the model and its own tests) fails.
FAILING_TEST = "transform.stg_youtube__channel_snapshots_model_build"
PRODUCER = "transform.dbt_producer_watcher"
# Built last by the transform group (no model reads it): where day 3's build is held and killed.
LOCKED_MODEL_ID = "model.ytempire.fct_revenue_estimates"
MANIFEST = published_manifest()  # what the DAG renders from
# The old fixed secret of the local stack: it must open nothing now.
OLD_DEFAULT_SECRET = "ytempire-local-airflow-jwt-secret"


def _ytempire(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ytempire_cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@dataclass
class Stack:
    """The scenario's running Airflow: its configuration, environment and start output."""

    config: AirflowConfig
    env: dict[str, str]
    start_output: str
    api: AirflowApi
    settings: Settings


@pytest.fixture(scope="module")
def scn(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    work_dir = tmp_path_factory.mktemp("scheduled")
    with scenario(settings, work_dir, channels=CHANNELS, events_per_day=EVENTS) as created:
        yield created


@pytest.fixture(scope="module")
def stack(scn: Scenario) -> Iterator[Stack]:
    with airflow_stack(scn, os.environ, parallelism=6) as started:
        yield Stack(
            started.config,
            started.env,
            started.start_output,
            AirflowApi(started.config),
            scn.settings,
        )


def _pid(config: AirflowConfig, process: str) -> int | None:
    path = config.home / f"{process}.pid"
    return int(path.read_text()) if path.exists() else None


# -- the stack: no default key, loopback only ---------------------------------------------


def test_start_prints_no_secret(stack: Stack) -> None:
    assert stack.config.admin_password not in stack.start_output
    assert stack.config.jwt_secret not in stack.start_output
    assert "ytempire airflow login-info" in stack.start_output
    info = _ytempire("airflow", "login-info", env=stack.env)
    assert stack.config.admin_password in info.stdout  # the one place that shows it


def test_secrets_are_the_installations_own_and_private(stack: Stack) -> None:
    secrets_file = stack.config.home / "ytempire-secrets.json"
    assert secrets_file.stat().st_mode & 0o077 == 0
    assert stack.config.jwt_secret != OLD_DEFAULT_SECRET
    assert stack.config.admin_password != "admin"
    assert len(stack.config.jwt_secret) >= 40


def test_a_token_forged_with_the_old_default_secret_opens_nothing(stack: Stack) -> None:
    import jwt

    def get_connections(secret: str) -> int:
        now = int(time.time())
        # What the simple auth manager's own tokens carry (Airflow's default audience).
        claims = {
            "jti": uuid.uuid4().hex,
            "aud": "apache-airflow",
            "sub": stack.config.admin_user,
            "role": "admin",  # as `admin:admin` in SIMPLE_AUTH_MANAGER_USERS
            "iat": now,
            "nbf": now,
            "exp": now + 600,
        }
        with warnings.catch_warnings():  # the old secret is short: that is the point
            warnings.simplefilter("ignore")
            token = jwt.encode(claims, secret, algorithm="HS512")
        request = urllib.request.Request(
            f"{stack.config.url}/api/v2/connections",
            headers={"Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    assert get_connections(stack.config.jwt_secret) == 200  # the forgery is well formed
    assert get_connections(OLD_DEFAULT_SECRET) in (401, 403)  # refused, whichever code


def test_every_listening_socket_is_on_loopback_on_the_stacks_own_ports(stack: Stack) -> None:
    listening: set[tuple[str, int]] = set()
    for name in PROCESSES:
        pid = _pid(stack.config, name)
        assert pid is not None, name
        assert psutil.pid_exists(pid), name
        root = psutil.Process(pid)
        for process in [root, *root.children(recursive=True)]:
            try:
                connections = process.net_connections(kind="inet")
            except psutil.NoSuchProcess:
                continue
            for connection in connections:
                if connection.status == psutil.CONN_LISTEN:
                    listening.add((connection.laddr.ip, connection.laddr.port))
    ports = set(stack.config.ports.values())
    assert {ip for ip, _ in listening} == {"127.0.0.1"}, listening
    assert {port for _, port in listening} <= ports, (listening, stack.config.ports)
    assert ("127.0.0.1", stack.config.port) in listening
    assert ("127.0.0.1", stack.config.port_of("scheduler health check")) in listening


def test_the_health_panel_has_no_red_part(stack: Stack) -> None:
    health = stack.api.health()
    assert {part: (v or {}).get("status") for part, v in health.items()} == {
        "metadatabase": "healthy",
        "scheduler": "healthy",
        "triggerer": "healthy",
        "dag_processor": "healthy",
    }


# -- the catalog watcher -------------------------------------------------------------------


@dataclass
class CatalogWatcher:
    """Reads the warehouse's dbt relations in a loop; records any seen before and now gone.

    The names readers use, as ``tests.catalog`` has them: dbt's transients
    (``__dbt_tmp``, ``__dbt_backup``) and the project's retired relations
    (``__dbt_retired_<run>``, kept while a materialized view reads them and
    dropped by the on-run-end hook once it no longer does) come and go by design.
    """

    scn: Scenario
    database: str
    seen: set[tuple[str, str]] = field(default_factory=set)
    missing: list[tuple[float, list[tuple[str, str]]]] = field(default_factory=list)
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="catalog-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()

    def _watch(self) -> None:
        query = (
            "select n.nspname, c.relname from pg_class as c "
            "join pg_namespace as n on n.oid = c.relnamespace "
            "where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p') "
            "and strpos(c.relname, %s) = 0"
        )
        params = (list(PROJECT_SCHEMAS), TRANSIENT)
        try:
            with pg_connect(
                "admin", self.database, autocommit=True, settings=self.scn.settings
            ) as conn:
                while not self._stop.is_set():
                    now = {(s, r) for s, r in conn.execute(query, params)}
                    gone = sorted(self.seen - now)
                    if gone:
                        self.missing.append((time.time(), gone))
                    self.seen |= now
                    self.samples += 1
                    self._stop.wait(0.05)
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error


# -- the days ------------------------------------------------------------------------------


@dataclass
class Days:
    """What the three scheduled days did."""

    ui_run: DagRunResult
    failed: DagRunResult
    fixed: DagRunResult
    killed: DagRunResult
    killed_pid: int
    marts_after: dict[date, bool]
    watcher: CatalogWatcher
    screenshot: Path


def _flip_subscribers(scn: Scenario, day: date) -> None:
    """One channel's subscriber count on ``day``: accepted_range min 0 fails, or passes again."""
    _flip_one(
        scn,
        "raw_youtube.channel_snapshots",
        "subscriber_count",
        "channel_id, collection_date",
        "collection_date = %(day)s",
        day,
    )


def _flip_one(
    scn: Scenario, relation: str, column: str, key: str, where: str = "true", day: date = DAY
) -> None:
    """Turn one row's ``column`` into ``-value - 1``: negative; the same call undoes it."""
    with pg_connect("admin", scn.database("dag"), settings=scn.settings) as conn:
        updated = conn.execute(
            f"update {relation} set {column} = -{column} - 1 where ({key}) = ("
            f"select {key} from {relation} where {column} is not null and {where} "
            f"order by {key} limit 1)",
            {"day": day},
        ).rowcount
        conn.commit()
    assert updated == 1


def _prepare_day(scn: Scenario, day: date) -> None:
    """The simulators move to ``day``; the direct warehouse works it."""
    if day != DAY:
        scn.simulator.set_day(day)
        scn.produce_events(day)
    run_direct(scn, os.environ, day, only=DIRECT_STEPS)


def _same_marts(scn: Scenario) -> bool:
    return marts(scn.settings, scn.database("dag")) == marts(scn.settings, scn.database("direct"))


def _trigger_from_the_ui(stack: Stack, day: date, shots: Path) -> tuple[str, Path]:
    """Log in, open the trigger form, give the quota day, trigger; wait for the run; the grid.

    The browser is closed while the run goes on (the grid polls the API every few
    seconds, a load of its own) and opened again to look at the finished run.
    """
    from playwright.sync_api import Page, sync_playwright

    config = stack.config

    def logged_in(page: Page) -> None:
        page.set_default_timeout(300_000)  # a loaded machine; only a hung UI reaches it
        page.goto(f"{config.url}/dags/{DAG_ID}")
        page.wait_for_url("**/auth/login**")
        page.fill("input[name=username]", config.admin_user)
        page.fill("input[name=password]", config.admin_password)
        page.get_by_role("button", name="Sign in").click()

    # A new stack's DAG is paused and a paused DAG's runs wait: unpause it first (as
    # the form's own "unpause" box does). Unpausing starts no run of its own: checked below.
    stack.api.unpause()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        logged_in(page)
        page.get_by_role("button", name="Trigger").first.click()
        dialog = page.get_by_role("dialog")
        dialog.locator("#element_quota_day").fill(day.isoformat())
        dialog.get_by_test_id("trigger-dag-submit").click()
        run_id = _wait_for_the_run_of(stack, day)
        browser.close()
    state = wait_for_run(config, run_id, settings=stack.settings, api=stack.api)
    assert state == "success", state
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        # Tall enough for every row of the expanded grid (about 100 with the model groups):
        # the grid renders only the rows in view.
        page = browser.new_page(viewport={"width": 1600, "height": 6000})
        logged_in(page)
        page.get_by_test_id("expand-all-button").click()
        page.locator(f'[data-testid="grid-{run_id}-dbt_docs"]').wait_for()
        cells = page.locator(f'[data-testid^="grid-{run_id}-"]')
        red_or_missing = []
        for cell in cells.all():
            task_id = str(cell.get_attribute("data-testid")).removeprefix(f"grid-{run_id}-")
            if task_id == "fail_if_any_task_failed":
                continue  # skipped: nothing failed
            badge = cell.get_by_test_id("task-state-badge")
            if badge.locator(f'path[d="{CHECK_ICON}"]').count() != 1:
                red_or_missing.append(task_id)
        assert cells.count() > 60
        assert not red_or_missing, red_or_missing
        shot = shots / "airflow_grid.png"
        page.screenshot(path=str(shot), full_page=True)

        page.get_by_test_id("nav-sidebar").get_by_text("Browse").click()
        with page.context.expect_page() as docs_tab:
            page.get_by_text("dbt docs (ytempire)").click()
        docs = docs_tab.value
        docs.get_by_text("YTEmpire warehouse").first.wait_for()
        assert "/cosmos/ytempire/dbt_docs_index.html" in docs.url
        browser.close()
    return run_id, shot


def _wait_for_the_run_of(stack: Stack, day: date) -> str:
    """The run id of quota ``day``'s run once the trigger has recorded it."""
    while True:
        result = read_day(stack.config, day, settings=stack.settings)
        if result is not None:
            return result.run_id
        time.sleep(1)


def _relation_of(unique_id: str) -> str:
    """``schema.alias`` of a dbt node, as the manifest resolves it (the project's
    ``generate_schema_name`` puts a mart that is not public in ``marts_internal``)."""
    node = json.loads(MANIFEST.read_text())["nodes"][unique_id]
    return f"{node['schema']}.{node['alias']}"


def _producer_keys(group: str = "transform") -> tuple[set[str], set[str]]:
    """The XCom keys the group's producer pushes: a status per node, one per credited test set.

    From the manifest, with the DAG's rule for tests of several models
    (``orchestration.watchers``): ``<node>_status`` for every model, seed and
    snapshot of the group, ``<node or test>_tests_status`` for what its tests
    are credited to.
    """
    nodes = json.loads(MANIFEST.read_text())["nodes"]
    analyst = "models/marts/analytics/"

    def in_group(node: dict[str, Any]) -> bool:
        return (node["original_file_path"].startswith(analyst)) == (group == "analyst_views")

    built = {
        uid
        for uid, node in nodes.items()
        if node["resource_type"] in ("model", "seed", "snapshot")
        and node["package_name"] == "ytempire"
        and in_group(node)
    }
    tests = {
        uid: n["depends_on"]["nodes"] for uid, n in nodes.items() if n["resource_type"] == "test"
    }
    per_model: dict[str, list[str]] = {}
    for test, parents in tests.items():
        for parent in parents:
            if parent in built:
                per_model.setdefault(parent, []).append(test)
    credited = credit_detached_tests(per_model, tests)

    def key(uid: str) -> str:
        return uid.replace(".", "__")

    return {f"{key(u)}_status" for u in built}, {f"{key(u)}_tests_status" for u in credited}


def _backfill_with_the_producer_killed(stack: Stack, scn: Scenario, day: date) -> tuple[str, int]:
    """Backfill ``day`` (``airflow backfill create``); SIGKILL its dbt producer mid-build.

    Where the build is killed does not depend on speed: a transaction holds
    :data:`LOCKED_MODEL_ID` (the last model the group builds) locked, so dbt
    stops at it. Once every other node and test of the group has reported and
    dbt waits on the lock, the producer's task process is killed, then the lock
    is released: the killed build's open transaction rolls back, and what is
    left to redo is that model and its tests, by their own tasks.
    """
    node_keys, test_keys = _producer_keys()
    locked_key = f"{LOCKED_MODEL_ID.replace('.', '__')}"
    rest = (node_keys | test_keys) - {f"{locked_key}_status", f"{locked_key}_tests_status"}
    assert len(rest) > 40  # the manifest was read
    locked = _relation_of(LOCKED_MODEL_ID)
    stack.api.unpause()
    with pg_connect("admin", scn.database("dag"), settings=scn.settings) as holder:
        holder.execute(f"lock table {locked} in access exclusive mode")
        run_airflow(
            stack.config,
            [
                "backfill",
                "create",
                "--dag-id",
                DAG_ID,
                "--from-date",
                f"{day.isoformat()}T00:00:00-08:00",  # the day's 02:00 Pacific run
                "--to-date",
                f"{day.isoformat()}T23:59:00-08:00",
            ],
            settings=stack.settings,
            env=stack.env,
        )
        run_id = _wait_for_the_run_of(stack, day)
        pid = _wait_until_the_build_waits_on_the_lock(stack, scn, run_id, rest, locked)
        os.kill(pid, signal.SIGKILL)
        holder.rollback()  # releases the lock
    return run_id, pid


def _wait_until_the_build_waits_on_the_lock(
    stack: Stack, scn: Scenario, run_id: str, reported: set[str], locked: str
) -> int:
    """The producer's pid once it has pushed every key in ``reported`` and dbt waits on
    the lock of relation ``locked``."""
    with (
        pg_connect("admin", stack.config.database, settings=stack.settings) as meta,
        pg_connect("admin", scn.database("dag"), autocommit=True, settings=scn.settings) as dag,
    ):
        while True:
            row = meta.execute(
                "select state, pid from task_instance where dag_id = %s and run_id = %s "
                "and task_id = %s",
                (DAG_ID, run_id, PRODUCER),
            ).fetchone()
            keys = {
                key
                for (key,) in meta.execute(
                    "select key from xcom where dag_id = %s and run_id = %s and task_id = %s",
                    (DAG_ID, run_id, PRODUCER),
                )
            }
            meta.commit()
            assert row is None or row[0] in (None, "scheduled", "queued", "running"), row
            (waiting,) = dag.execute(
                "select count(*) from pg_locks where relation = %s::regclass and not granted",
                (locked,),
            ).fetchone()
            if row is not None and row[0] == "running" and row[1] and waiting and reported <= keys:
                return int(row[1])
            time.sleep(0.5)


@pytest.fixture(scope="module")
def days(scn: Scenario, stack: Stack, settings: Settings) -> Days:
    shots = Path(settings.local_dir) / "test-artifacts"
    shots.mkdir(parents=True, exist_ok=True)
    watcher = CatalogWatcher(scn, scn.database("dag"))
    watcher.start()
    try:
        marts_after: dict[date, bool] = {}
        # Day 1, from the UI.
        _prepare_day(scn, DAYS[0])
        ui_run_id, shot = _trigger_from_the_ui(stack, DAYS[0], shots)
        ui_run = read_day(stack.config, DAYS[0], settings=stack.settings)
        assert ui_run is not None
        assert ui_run.run_id == ui_run_id
        marts_after[DAYS[0]] = _same_marts(scn)
        # Day 2: a failing dbt test, then the fix and a re-run of the failed tasks.
        _prepare_day(scn, DAYS[1])
        # Collected ahead (the DAG's collection leaves a completed day alone), so the
        # bad value is in raw_youtube before the run.
        run_direct(scn, os.environ, DAYS[1], kind="dag", only=("collect youtube",))
        _flip_subscribers(scn, DAYS[1])
        failed = run_day(stack.config, DAYS[1], settings=stack.settings)
        _flip_subscribers(scn, DAYS[1])  # the fix
        fixed = run_day(stack.config, DAYS[1], settings=stack.settings, only_failed=True)
        marts_after[DAYS[1]] = _same_marts(scn)
        # Day 3, caught up by a backfill (README: catch up a missed week): collected as the
        # day ended; by the time the DAG runs, YouTube serves the next day, so a collection
        # now would record the wrong counters. Its dbt producer is killed mid-build.
        _prepare_day(scn, DAYS[2])
        run_direct(scn, os.environ, DAYS[2], kind="dag", only=("collect youtube",))
        scn.simulator.set_day(DAYS[2] + timedelta(days=1))
        killed_run_id, pid = _backfill_with_the_producer_killed(stack, scn, DAYS[2])
        wait_for_run(stack.config, killed_run_id, settings=stack.settings, api=stack.api)
        killed = read_day(stack.config, DAYS[2], settings=stack.settings)
        assert killed is not None
        marts_after[DAYS[2]] = _same_marts(scn)
    finally:
        watcher.stop()
    return Days(ui_run, failed, fixed, killed, pid, marts_after, watcher, shot)


@pytest.mark.scheduled_days
def test_the_ui_triggered_day_runs_green_and_is_named(days: Days, stack: Stack) -> None:
    assert days.ui_run.state == "success"
    states = {t.task_id: t.state for t in days.ui_run.tasks}
    assert states.pop("fail_if_any_task_failed") == "skipped"
    assert set(states.values()) == {"success"}
    assert sum(t.startswith("transform.") for t in states) >= 20
    run_id = urllib.parse.quote(days.ui_run.run_id, safe="")
    run = stack.api._send("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")
    assert run["conf"] == {"quota_day": DAYS[0].isoformat()}
    assert (run["note"] or "").startswith(f"quota day {DAYS[0].isoformat()}")
    assert days.screenshot.stat().st_size > 0


@pytest.mark.scheduled_days
def test_every_day_builds_the_marts_of_the_direct_run(days: Days) -> None:
    assert days.marts_after == dict.fromkeys(DAYS, True)


@pytest.mark.scheduled_days
def test_no_relation_went_missing_while_the_days_ran(days: Days) -> None:
    assert days.watcher.error is None, days.watcher.error
    assert days.watcher.samples > 100
    assert len(days.watcher.seen) >= 30
    gone = sorted({relation for _, relations in days.watcher.missing for relation in relations})
    assert days.watcher.missing == [], gone


@pytest.mark.scheduled_days
def test_a_failing_dbt_test_fails_its_model_and_the_run(days: Days) -> None:
    states = {t.task_id: t.state for t in days.failed.tasks}
    assert days.failed.state == "failed"
    # Only the failing test's task is red: no other model's test task takes the blame
    # for a test of two models that dbt skipped (orchestration.watchers).
    assert {t for t, state in states.items() if state == "failed"} == {
        FAILING_TEST,
        "fail_if_any_task_failed",
    }
    assert states["transform.channel_cpm_overrides_seed_build"] == "success"
    assert states["transform.assert_cpm_overrides_match_channels_test"] == "upstream_failed"
    assert [t.tries for t in days.failed.tasks if t.task_id == FAILING_TEST] == [3]
    for dependant in (
        "transform.int_channel_snapshots_differenced_model_build",
        "transform.fct_channel_daily_metrics_model_build",
        "analyst_views.mv_channel_performance_model_build",
        "validate_marts",
        "dbt_docs",
    ):
        assert states[dependant] == "upstream_failed", dependant
    assert states["transform.stg_youtube__video_snapshots_model_build"] == "success"
    assert states["daily_report"] == "success"
    assert states["fail_if_any_task_failed"] == "failed"


@pytest.mark.scheduled_days
def test_rerunning_the_failed_tasks_after_the_fix_succeeds(days: Days) -> None:
    assert days.fixed.run_id == days.failed.run_id  # the same run, cleared in place
    assert days.fixed.state == "success"
    states = {t.task_id: t.state for t in days.fixed.tasks}
    assert set(states.values()) <= {"success", "skipped"}, states
    # Skipped: the sentinel (nothing failed), and a producer that had run (Cosmos never
    # builds twice: the cleared models' tasks ran their own model each).
    assert {t for t, state in states.items() if state == "skipped"} <= {
        "fail_if_any_task_failed",
        "transform.dbt_producer_watcher",
        "analyst_views.dbt_producer_watcher",
    }
    assert states["fail_if_any_task_failed"] == "skipped"
    # Each cleared task ran once more, no more: a cleared watcher trusts no result of the
    # build made before the clear (it used to read the failed test's old verdict, fail a
    # try and only then run its own node; orchestration.watchers).
    before = {t.task_id: t for t in days.failed.tasks}
    after = {t.task_id: t.tries for t in days.fixed.tasks}
    cleared = {
        t
        for t, ti in before.items()
        if ti.state in ("failed", "upstream_failed") and t != "fail_if_any_task_failed"
    }
    assert FAILING_TEST in cleared
    assert {t: after[t] - before[t].tries for t in cleared} == dict.fromkeys(cleared, 1)


@pytest.mark.scheduled_days
def test_the_report_shows_the_days_whole_build_after_retries(scn: Scenario, days: Days) -> None:
    with pg_connect("loader", scn.database("dag"), settings=scn.settings) as conn:
        status, details = conn.execute(
            "select status, details from analytics.pipeline_stage_runs "
            "where stage = 'dbt_build' and run_date = %s order by stage_run_id desc limit 1",
            (DAYS[1],),
        ).fetchone()
    assert status == "success"
    assert details["attempts"] > 1  # the build, its retries and the re-run
    assert sum(details["models"].values()) >= 20, details["models"]
    assert set(details["models"]) == {"success"}
    assert details["failures"] == []


@pytest.mark.scheduled_days
def test_a_killed_dbt_producer_is_retried_and_its_models_built(days: Days) -> None:
    assert days.killed.state == "success"
    producer = next(t for t in days.killed.tasks if t.task_id == PRODUCER)
    assert producer.tries == 2  # killed once, retried
    assert producer.state == "skipped"  # Cosmos' producer never builds twice
    states = {t.task_id: t.state for t in days.killed.tasks}
    assert states.pop("fail_if_any_task_failed") == "skipped"
    assert set(states.values()) <= {"success", "skipped"}
    # The model the killed build never finished was built by its own task, in its first try:
    # Airflow 3 records a killed task with retries left as up_for_retry, never failed, so its
    # watcher finds no status for the model, polls on, and once the producer's retry has
    # skipped runs the model's own dbt node (cosmos.operators._watcher.base,
    # _handle_no_dbt_node_status). A second try would mean that run failed.
    locked = next(
        t for t in days.killed.tasks if t.task_id == "transform.fct_revenue_estimates_model_build"
    )
    assert (locked.state, locked.tries) == ("success", 1)
    assert not psutil.pid_exists(days.killed_pid)


@pytest.mark.scheduled_days
def test_the_backfill_ran_through_the_scheduler_and_collected_nothing_again(
    scn: Scenario, stack: Stack, days: Days
) -> None:
    """A backfill's collection leaves a collected day alone: YouTube has no history."""
    with pg_connect("admin", stack.config.database, settings=stack.settings) as conn:
        (run_type,) = conn.execute(
            "select run_type from dag_run where dag_id = %s and run_id = %s",
            (DAG_ID, days.killed.run_id),
        ).fetchone()
    assert run_type == "backfill"
    with pg_connect("loader", scn.database("dag"), settings=scn.settings) as conn:
        units = conn.execute(
            "select (details ->> 'units_used')::int from analytics.pipeline_stage_runs "
            "where stage = 'collection' and run_date = %s order by stage_run_id",
            (DAYS[2],),
        ).fetchall()
    assert len(units) >= 2, units  # collected as the day ended, then the backfill's
    assert units[0][0] > 0
    assert {u for (u,) in units[1:]} == {0}, units


@pytest.mark.scheduled_days
def test_unpausing_ran_no_day_nobody_asked_for(stack: Stack, days: Days) -> None:
    with pg_connect("admin", stack.config.database, settings=stack.settings) as conn:
        kinds = conn.execute(
            "select run_type, count(*) from dag_run where dag_id = %s group by 1", (DAG_ID,)
        ).fetchall()
    assert dict(kinds) == {"manual": 2, "backfill": 1}


@pytest.mark.scheduled_days
def test_task_logs_lead_with_what_matters(stack: Stack, days: Days) -> None:
    """The Logs tab's source: the task's log file, without library chatter."""
    logs = stack.config.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={days.ui_run.run_id}"
    text = (logs / "task_id=validate_raw" / "attempt=1.log").read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    events = [str(line.get("event", "")) for line in lines]
    assert not [e for e in events if "Skipping registering function" in e]
    assert any("validate_raw for quota day" in e for e in events)
    assert len(lines) < 80, len(lines)
    run_id = urllib.parse.quote(days.ui_run.run_id, safe="")
    answer = stack.api._send(
        "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/validate_raw/logs/1"
    )
    assert "validate_raw for quota day" in json.dumps(answer)  # what the Logs tab shows


@pytest.mark.scheduled_days
def test_a_failed_expectation_fails_its_check_at_once_and_stops_dbt(
    scn: Scenario, stack: Stack, days: Days
) -> None:
    flip = ("raw_youtube.videos", "duration_seconds", "video_id")  # raw_youtube_videos: >= 0
    _flip_one(scn, *flip)
    try:
        # The check and what follows it cleared and re-run: the landings before it are done.
        result = run_day(stack.config, DAYS[2], settings=stack.settings, task_ids=["validate_raw"])
    finally:
        _flip_one(scn, *flip)
    states = {t.task_id: t.state for t in result.tasks}
    assert result.state == "failed"
    assert states["validate_raw"] == "failed"
    dbt_tasks = {s for t, s in states.items() if t.startswith(("transform.", "analyst_views."))}
    assert dbt_tasks == {"upstream_failed"}
    assert states["daily_report"] == "success"
    with pg_connect("loader", scn.database("dag"), settings=scn.settings) as conn:
        failed = conn.execute(
            "select suite_name, expectation_type, unexpected_count "
            "from analytics.validation_results where checkpoint_name = 'raw' "
            "and run_date = %s and not success",
            (DAYS[2],),
        ).fetchall()
    assert ("raw_youtube_videos", "expect_column_values_to_be_between", 1) in failed
