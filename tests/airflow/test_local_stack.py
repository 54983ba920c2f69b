"""The local Airflow's configuration: no default key, loopback ports moved together, a closed
metadata database. Pure checks, and one against PostgreSQL (the metadata database's access).

The running stack (what actually listens, what the API accepts) is checked end to end in
``test_scheduler.py``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from orchestration.airflow_local import (
    LOOPBACK,
    PORT_OFFSETS,
    PROCESS_ARGS,
    PROCESSES,
    AirflowConfig,
    airflow_env,
    create_metadata_database,
    load_or_create_secrets,
)
from orchestration.daily import quota_day_of_run
from orchestration.timetable import QuotaDayTimetable
from ytempire.clients import pg_connect
from ytempire.db import drop_database
from ytempire.errors import YTEmpireError
from ytempire.settings import Settings

OLD_DEFAULT_SECRET = "ytempire-local-airflow-jwt-secret"


def _config(home: Path, port: int = 8080) -> AirflowConfig:
    secrets = load_or_create_secrets(home)
    return AirflowConfig(
        home=home,
        database="airflow",
        password="airflow",
        port=port,
        jwt_secret=secrets["jwt_secret"],
        admin_user="admin",
        admin_password=secrets["admin_password"],
    )


def test_secrets_are_generated_once_per_installation_and_private(tmp_path: Path) -> None:
    first = load_or_create_secrets(tmp_path / "a")
    again = load_or_create_secrets(tmp_path / "a")
    other = load_or_create_secrets(tmp_path / "b")
    assert first == again  # kept, not regenerated
    assert first["jwt_secret"] != other["jwt_secret"]
    assert first["admin_password"] != other["admin_password"]
    assert OLD_DEFAULT_SECRET not in (first["jwt_secret"], other["jwt_secret"])
    assert len(first["jwt_secret"]) >= 40
    assert (tmp_path / "a" / "ytempire-secrets.json").stat().st_mode & 0o077 == 0


def test_from_env_uses_the_generated_secrets_unless_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YTEMPIRE_AIRFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("YTEMPIRE_AIRFLOW_JWT_SECRET", raising=False)
    monkeypatch.delenv("YTEMPIRE_AIRFLOW_ADMIN_PASSWORD", raising=False)
    generated = AirflowConfig.from_env()
    assert generated.jwt_secret == load_or_create_secrets(tmp_path)["jwt_secret"]
    assert generated.admin_password != "admin"
    monkeypatch.setenv("YTEMPIRE_AIRFLOW_JWT_SECRET", "a-deployments-own")
    assert AirflowConfig.from_env().jwt_secret == "a-deployments-own"
    assert "a-deployments-own" not in repr(AirflowConfig.from_env())


@pytest.mark.parametrize("port", [8080, 18080])
def test_every_airflow_port_is_on_loopback_and_moves_with_the_stack(
    tmp_path: Path, port: int
) -> None:
    config = _config(tmp_path, port)
    env = airflow_env(config, base={})
    assert env["AIRFLOW__API__HOST"] == LOOPBACK
    assert env["AIRFLOW__API__PORT"] == str(port)
    assert env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST"] == LOOPBACK
    assert env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"] == str(port + 894)
    assert env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == str(port + 713)
    assert env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] == str(port + 714)
    assert set(config.ports) == set(PORT_OFFSETS)
    # The log servers bind every interface (Airflow has no host setting for them): they
    # are not started. Each process that could start one is told not to.
    assert "--skip-serve-logs" in PROCESS_ARGS["scheduler"]
    assert "--skip-serve-logs" in PROCESS_ARGS["triggerer"]
    assert set(PROCESSES) == {"api-server", "scheduler", "dag-processor", "triggerer"}


def test_two_stacks_share_no_port(tmp_path: Path) -> None:
    one = set(_config(tmp_path, 8080).ports.values())
    two = set(_config(tmp_path, 28080).ports.values())
    assert not one & two


def test_two_stacks_share_no_dbt_partial_parse_cache(tmp_path: Path) -> None:
    """Cosmos' cache of dbt's partial parse is the installation's, not the machine's <tmp>/cosmos.

    A stack whose tasks name another database left a msgpack there that dbt
    refused ("profile has changed"): the next stack's producer parsed in full.
    """
    one, two = _config(tmp_path / "one"), _config(tmp_path / "two")
    caches = [Path(airflow_env(c, base={})["AIRFLOW__COSMOS__CACHE_DIR"]) for c in (one, two)]
    assert caches[0].is_relative_to(one.home)
    assert caches[1].is_relative_to(two.home)


def test_the_processes_share_the_installations_secret(tmp_path: Path) -> None:
    config = _config(tmp_path)
    env = airflow_env(config, base={})
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == config.jwt_secret != OLD_DEFAULT_SECRET


def test_start_no_longer_prints_the_password() -> None:
    """`start` points to login-info; only login-info shows the password."""
    import inspect

    from ytempire_cli import airflow as cli

    start_source = inspect.getsource(cli.start.callback)
    assert "admin_password" not in start_source
    assert "login-info" in start_source
    assert "admin_password" in inspect.getsource(cli.login_info.callback)


def test_login_info_shows_the_generated_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ytempire_cli.airflow import airflow

    monkeypatch.setenv("YTEMPIRE_AIRFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("YTEMPIRE_AIRFLOW_ADMIN_PASSWORD", raising=False)
    result = CliRunner().invoke(airflow, ["login-info"])
    assert result.exit_code == 0, result.output
    password = load_or_create_secrets(tmp_path)["admin_password"]
    assert f"password:   {password}" in result.output
    assert str(tmp_path / "ytempire-secrets.json") in result.output
    assert load_or_create_secrets(tmp_path)["jwt_secret"] not in result.output


# -- the timetable: unpausing starts no past day ----------------------------------------


def test_unpausing_schedules_the_day_in_progress_not_a_past_day() -> None:
    import pendulum

    timetable = QuotaDayTimetable()
    now = pendulum.datetime(2026, 12, 4, 23, 31, tz="UTC")  # 15:31 Pacific on Dec 4
    start = timetable.first_run_start(now, pendulum.datetime(2025, 1, 1, tz="UTC"))
    # The interval in progress: [Dec 4 02:00, Dec 5 02:00) Pacific, run at its end.
    # (Airflow's own timetable starts the last complete one, Dec 3, at once.)
    assert start == pendulum.datetime(2026, 12, 4, 2, tz="America/Los_Angeles")
    on_a_boundary = pendulum.datetime(2026, 12, 4, 2, tz="America/Los_Angeles")
    assert timetable.first_run_start(on_a_boundary) == on_a_boundary


def test_the_timetable_keeps_airflows_intervals() -> None:
    import pendulum

    timetable = QuotaDayTimetable()
    interval = timetable.infer_manual_data_interval(
        run_after=pendulum.datetime(2025, 1, 4, 2, tz="America/Los_Angeles")
    )
    assert interval.start == pendulum.datetime(2025, 1, 3, 2, tz="America/Los_Angeles")
    assert interval.end == pendulum.datetime(2025, 1, 4, 2, tz="America/Los_Angeles")
    assert QuotaDayTimetable.deserialize(timetable.serialize()).serialize() == (
        timetable.serialize()
    )


# -- the quota day of a run ----------------------------------------------------------


def test_a_runs_quota_day_is_its_param_or_its_interval() -> None:
    from ytempire.quota import PACIFIC

    start = datetime(2025, 1, 3, 2, tzinfo=PACIFIC)
    assert quota_day_of_run(start, {}) == date(2025, 1, 3)
    assert quota_day_of_run(start, {"quota_day": None}) == date(2025, 1, 3)
    assert quota_day_of_run(start, {"quota_day": "2025-01-07"}) == date(2025, 1, 7)
    assert quota_day_of_run(None, {"quota_day": "2025-01-07"}) == date(2025, 1, 7)
    for bad in ("2025-1-7", "20250107", "2025-02-30", "next tuesday"):
        with pytest.raises(ValueError, match=r"e\.g\. 2025-01-03"):
            quota_day_of_run(start, {"quota_day": bad})
    with pytest.raises(ValueError, match="no data interval"):
        quota_day_of_run(None, {})


# -- the metadata database is the airflow role's alone ----------------------------------


@pytest.mark.services
def test_the_analyst_reaches_no_metadata_database_made_after_db_init(
    settings: Settings, tmp_path: Path
) -> None:
    """`db init` has run (the session's database); the metadata database comes after it."""
    config = replace(
        _config(tmp_path),
        database=f"{settings.pg_database.removesuffix('_test')}_airflow_{uuid.uuid4().hex[:6]}_test",
    )
    create_metadata_database(config, settings)
    try:
        with pytest.raises(YTEmpireError, match="permission denied"):
            pg_connect("analyst", config.database, settings=settings).close()
        with pg_connect("admin", config.database, settings=settings) as admin:
            privileges = admin.execute(
                "select has_database_privilege('analyst', current_database(), 'connect'), "
                "has_database_privilege('analyst', current_database(), 'temporary'), "
                "has_database_privilege('airflow', current_database(), 'connect')"
            ).fetchone()
        assert privileges == (False, False, True)
    finally:
        drop_database(config.database, settings=settings)
