"""``ytempire_daily`` end to end through Airflow, against disposable warehouses and real services.

One module-scoped scenario (``orchestration.scenario``): a simulated
quota day of YouTube statistics and Kafka events is processed once by the
``ytempire`` commands and one ``dbt build`` (the direct run), and once by the
DAG with ``airflow dags test`` on a metadata database of its own. Then one
dbt test is made to fail (a negative subscriber count in the raw snapshots):
its model's task fails, everything downstream is ``upstream_failed``, the
report still runs and the run is failed; after the fix a re-run converges to
the direct run's marts. Last, one raw video is given a negative duration: the
raw checkpoint fails ``validate_raw`` at once (no retries), no dbt model runs,
and the report still runs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from orchestration.airflow_local import airflow_env, airflow_executable, api_ready
from orchestration.runs import DagRunResult, run_day
from orchestration.scenario import DAY, Scenario, marts, run_direct, scenario
from ytempire.clients import pg_connect
from ytempire.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.services]

# Watcher mode: the model built, its test task fails (and with it the model's group).
FAILING_MODEL = "transform.stg_youtube__channel_snapshots.test"
# Landing and Spark are not what the failure scenario is about: Airflow marks them done.
CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright never downloads a browser here
CHECK_ICON = "M20 6 9 17l-5-5"  # the success badge's check mark in Airflow 3's grid
SKIP_LANDINGS = "^(collect_youtube|land_kafka_events|catch_up_windows)$"


@pytest.fixture(scope="module")
def scn(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    with scenario(settings, tmp_path_factory.mktemp("daily")) as created:
        yield created


def _run_dag(scn: Scenario, *extra: str) -> DagRunResult:
    env = {**os.environ, **scn.env("dag")}
    return run_day(scn.airflow_config(), DAY, settings=scn.settings, env=env, extra_args=extra)


@pytest.fixture(scope="module")
def first_run(scn: Scenario) -> DagRunResult:
    return _run_dag(scn)


@pytest.fixture(scope="module")
def direct_marts(scn: Scenario) -> dict[str, list[tuple[Any, ...]]]:
    run_direct(scn, os.environ)
    return marts(scn.settings, scn.database("direct"))


def test_the_daily_run_succeeds_task_by_task(first_run: DagRunResult) -> None:
    states = {t.task_id: t.state for t in first_run.tasks}
    assert first_run.state == "success", first_run.output[-3000:]
    assert states.pop("fail_if_any_task_failed") == "skipped"
    assert set(states.values()) == {"success"}
    assert sum(t.startswith("transform.") for t in states) >= 20


def test_the_dag_run_builds_the_marts_of_the_direct_run(
    scn: Scenario, first_run: DagRunResult, direct_marts: dict[str, list[tuple[Any, ...]]]
) -> None:
    dag_marts = marts(scn.settings, scn.database("dag"))
    assert direct_marts["fct_channel_daily_metrics"], "the direct run built no metrics"
    for relation, rows in direct_marts.items():
        assert dag_marts[relation] == rows, relation


def test_every_stage_recorded_its_attempt(scn: Scenario, first_run: DagRunResult) -> None:
    with pg_connect("loader", scn.database("dag"), settings=scn.settings) as conn:
        rows = conn.execute(
            "select stage, status from analytics.pipeline_stage_runs where run_date = %s",
            (DAY,),
        ).fetchall()
    recorded = {stage: status for stage, status in rows}
    assert recorded == {
        "collection": "success",
        "events_landing": "success",
        "streaming_windows": "success",
        "validation_raw": "success",
        "dbt_build": "success",
        "validation_marts": "success",
        "quality_scores": "success",
        "anomaly_detection": "success",
        "report": "success",
    }


@pytest.fixture(scope="module")
def api_server(scn: Scenario, first_run: DagRunResult) -> Iterator[str]:
    """The scenario's Airflow api-server (UI) on a free loopback port; its base URL."""
    config = replace(scn.airflow_config(), port=_free_port())
    env = airflow_env(config, scn.settings, {**os.environ, **scn.env("dag")})
    log = (config.home / "api-server.log").open("wb")
    server = subprocess.Popen([airflow_executable(), "api-server"], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 600  # only a hung server reaches this
        while not api_ready(config):
            assert server.poll() is None, (config.home / "api-server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the api-server never answered"
            time.sleep(1)
        yield config.url
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_ui_shows_the_green_run_and_opens_the_dbt_docs(
    settings: Settings, api_server: str, first_run: DagRunResult
) -> None:
    """Headless Chromium (Debian's): log in, open the grid, every task green; then the dbt docs."""
    from playwright.sync_api import sync_playwright

    shots = Path(settings.local_dir) / "test-artifacts"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        # Tall enough for every row of the expanded grid (about 100 with the model
        # groups): the grid renders only the rows in view.
        page = browser.new_page(viewport={"width": 1600, "height": 6000})
        page.set_default_timeout(120_000)  # a loaded machine; only a hung UI reaches it
        page.goto(f"{api_server}/dags/ytempire_daily")
        page.wait_for_url("**/auth/login**")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "admin")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_test_id("expand-all-button").click()
        cells = page.locator(f'[data-testid^="grid-{first_run.run_id}-"]')
        expected = {t.task_id for t in first_run.tasks}
        expected |= {t.rsplit(".", n)[0] for t in expected for n in (1, 2) if t.count(".") >= n}
        page.locator(f'[data-testid="grid-{first_run.run_id}-dbt_docs"]').wait_for()
        shown = {
            cell.get_attribute("data-testid").removeprefix(f"grid-{first_run.run_id}-"): cell
            for cell in cells.all()
        }
        assert set(shown) == expected
        for task_id, cell in shown.items():
            if task_id == "fail_if_any_task_failed":
                continue  # skipped: nothing failed
            badge = cell.get_by_test_id("task-state-badge")
            assert badge.locator(f'path[d="{CHECK_ICON}"]').count() == 1, task_id
            red, green, blue = badge.evaluate(_RGB)
            assert green > max(red, blue), (task_id, red, green, blue)
        page.screenshot(path=str(shots / "airflow_grid.png"), full_page=True)

        page.get_by_test_id("nav-sidebar").get_by_text("Browse").click()
        with page.context.expect_page() as docs_tab:
            page.get_by_text("dbt docs (ytempire)").click()
        docs = docs_tab.value
        docs.get_by_text("YTEmpire warehouse").first.wait_for()
        assert "/cosmos/ytempire/dbt_docs_index.html" in docs.url
        docs.screenshot(path=str(shots / "airflow_dbt_docs.png"))
        browser.close()


# (r, g, b) of an element's background in sRGB, whatever CSS colour syntax the UI
# uses (Airflow 3's theme computes oklch()): a 1x1 canvas converts it.
_RGB = """e => {
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.fillStyle = getComputedStyle(e).backgroundColor;
    ctx.fillRect(0, 0, 1, 1);
    return Array.from(ctx.getImageData(0, 0, 1, 1).data.slice(0, 3));
}"""


def _flip_one(scn: Scenario, relation: str, column: str, key: str, where: str = "true") -> None:
    """Turn one row's ``column`` into ``-value - 1``: negative; the same call undoes it."""
    with pg_connect("admin", scn.database("dag"), settings=scn.settings) as conn:
        updated = conn.execute(
            f"update {relation} set {column} = -{column} - 1 where ({key}) = ("
            f"select {key} from {relation} where {column} is not null and {where} "
            f"order by {key} limit 1)",
            {"day": DAY},
        ).rowcount
        conn.commit()
    assert updated == 1


def _flip_subscribers(scn: Scenario) -> None:
    """One channel's subscriber count on the day: accepted_range min 0 fails, or passes again."""
    _flip_one(
        scn,
        "raw_youtube.channel_snapshots",
        "subscriber_count",
        "channel_id, collection_date",
        "collection_date = %(day)s",
    )


@pytest.fixture(scope="module")
def failed_then_fixed(
    scn: Scenario, first_run: DagRunResult, direct_marts: dict[str, list[tuple[Any, ...]]]
) -> tuple[DagRunResult, DagRunResult]:
    _flip_subscribers(scn)
    failed = _run_dag(scn, "--mark-success-pattern", SKIP_LANDINGS)
    _flip_subscribers(scn)  # the fix
    fixed = _run_dag(scn, "--mark-success-pattern", SKIP_LANDINGS)
    return failed, fixed


def test_a_failing_dbt_test_fails_its_model_and_skips_its_dependants(
    failed_then_fixed: tuple[DagRunResult, DagRunResult],
) -> None:
    failed, _ = failed_then_fixed
    states = {t.task_id: t.state for t in failed.tasks}
    assert failed.state == "failed"
    assert states[FAILING_MODEL] == "failed"
    assert [t.tries for t in failed.tasks if t.task_id == FAILING_MODEL] == [3]  # 2 retries
    for dependant in (
        "transform.int_channel_snapshots_differenced.run",
        "transform.fct_channel_daily_metrics.run",
        "analyst_views.mv_channel_performance.run",
        "validate_marts",
        "score_quality",
        "detect_anomalies",
        "dbt_docs",
    ):
        assert states[dependant] == "upstream_failed", dependant
    # Models that do not read channel snapshots still build.
    assert states["transform.stg_youtube__channel_snapshots.run"] == "success"
    assert states["transform.stg_youtube__video_snapshots.run"] == "success"
    assert states["daily_report"] == "success"
    assert states["fail_if_any_task_failed"] == "failed"


def test_the_rerun_after_the_fix_converges(
    scn: Scenario,
    failed_then_fixed: tuple[DagRunResult, DagRunResult],
    direct_marts: dict[str, list[tuple[Any, ...]]],
) -> None:
    _, fixed = failed_then_fixed
    assert fixed.state == "success", fixed.output[-3000:]
    assert marts(scn.settings, scn.database("dag")) == direct_marts


@pytest.fixture(scope="module")
def failed_check(
    scn: Scenario, failed_then_fixed: tuple[DagRunResult, DagRunResult]
) -> Iterator[DagRunResult]:
    flip = ("raw_youtube.videos", "duration_seconds", "video_id")  # raw_youtube_videos: >= 0
    _flip_one(scn, *flip)
    try:
        yield _run_dag(scn, "--mark-success-pattern", SKIP_LANDINGS)
    finally:
        _flip_one(scn, *flip)


def test_a_failed_expectation_fails_its_check_at_once_and_stops_dbt(
    scn: Scenario, failed_check: DagRunResult
) -> None:
    states = {t.task_id: t.state for t in failed_check.tasks}
    assert failed_check.state == "failed"
    assert states["validate_raw"] == "failed"
    assert [t.tries for t in failed_check.tasks if t.task_id == "validate_raw"] == [1]
    dbt_tasks = {s for t, s in states.items() if t.startswith(("transform.", "analyst_views."))}
    assert dbt_tasks == {"upstream_failed"}
    assert states["validate_marts"] == "upstream_failed"
    assert states["daily_report"] == "success"
    assert states["fail_if_any_task_failed"] == "failed"
    with pg_connect("loader", scn.database("dag"), settings=scn.settings) as conn:
        failed = conn.execute(
            "select suite_name, expectation_type, unexpected_count "
            "from analytics.validation_results where checkpoint_name = 'raw' "
            "and run_date = %s and not success",
            (DAY,),
        ).fetchall()
    assert failed == [("raw_youtube_videos", "expect_column_values_to_be_between", 1)]
