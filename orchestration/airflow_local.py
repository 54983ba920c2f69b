"""Airflow on this machine: its metadata database, its environment, its three processes.

Airflow keeps its metadata in a database and role of its own on the
project's PostgreSQL (``YTEMPIRE_AIRFLOW_DATABASE``, role ``airflow``), runs
the LocalExecutor, and listens on loopback only. The api-server, scheduler and
dag-processor all get the environment from :func:`airflow_env`, so they agree
on the database URLs, the execution API address and the JWT secret (Airflow 3
signs task tokens with it; each process would otherwise invent its own).

The login is Airflow's simple auth manager with one fixed local user
(``YTEMPIRE_AIRFLOW_ADMIN_USER`` / ``_PASSWORD``, default admin/admin) written
to a passwords file before start, so the UI address can be printed with a
login that works. These are local-stack credentials; a deployment sets its
own, as with every ``*_PASSWORD`` variable.

Settings (each with one default):

* ``YTEMPIRE_AIRFLOW_HOME``: ``$YTEMPIRE_LOCAL_DIR/airflow`` (logs, passwords file)
* ``YTEMPIRE_AIRFLOW_DATABASE``: ``airflow``; ``YTEMPIRE_AIRFLOW_PG_PASSWORD``: ``airflow``
* ``YTEMPIRE_AIRFLOW_PORT``: ``8080`` (api-server and UI on 127.0.0.1)
* ``YTEMPIRE_AIRFLOW_JWT_SECRET``: a fixed local-stack secret
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from psycopg import sql

from ytempire.clients import pg_connect
from ytempire.dbt_runner import target_dir
from ytempire.errors import YTEmpireError
from ytempire.settings import PROJECT_ROOT, Settings, get_settings

DAGS_FOLDER = PROJECT_ROOT / "airflow" / "dags"
DBT_TARGET = target_dir()  # $DBT_TARGET_PATH, by default dbt_project/target
AIRFLOW_ROLE = "airflow"
PROCESSES = ("api-server", "scheduler", "dag-processor")
DOCS_SLUG = "ytempire"  # the dbt docs site is at /cosmos/<slug>/dbt_docs_index.html


@dataclass(frozen=True)
class AirflowConfig:
    """Where and how the local Airflow runs; :meth:`from_env` reads the variables."""

    home: Path
    database: str
    password: str
    port: int
    jwt_secret: str
    admin_user: str
    admin_password: str

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> AirflowConfig:
        s = settings or get_settings()
        env = os.environ.get
        return cls(
            home=Path(env("YTEMPIRE_AIRFLOW_HOME") or Path(s.local_dir) / "airflow"),
            database=env("YTEMPIRE_AIRFLOW_DATABASE") or "airflow",
            password=env("YTEMPIRE_AIRFLOW_PG_PASSWORD") or "airflow",
            port=int(env("YTEMPIRE_AIRFLOW_PORT") or 8080),
            jwt_secret=env("YTEMPIRE_AIRFLOW_JWT_SECRET") or "ytempire-local-airflow-jwt-secret",
            admin_user=env("YTEMPIRE_AIRFLOW_ADMIN_USER") or "admin",
            admin_password=env("YTEMPIRE_AIRFLOW_ADMIN_PASSWORD") or "admin",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def docs_url(self) -> str:
        return f"{self.url}/cosmos/{DOCS_SLUG}/dbt_docs_index.html"

    @property
    def passwords_file(self) -> Path:
        return self.home / "simple_auth_manager_passwords.json"


def metadata_url(config: AirflowConfig, settings: Settings) -> str:
    """SQLAlchemy URL of the metadata database (psycopg 3, usable sync and async)."""
    return (
        f"postgresql+psycopg://{AIRFLOW_ROLE}:{quote(config.password, safe='')}"
        f"@{settings.pg_host}:{settings.pg_port}/{quote(config.database, safe='')}"
    )


def airflow_env(
    config: AirflowConfig, settings: Settings | None = None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment every Airflow process of the local stack runs with (``base`` + Airflow's)."""
    s = settings or get_settings()
    url = metadata_url(config, s)
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "AIRFLOW_HOME": str(config.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",  # two cores: a few dbt processes at once
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "60",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": url,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(config.port),
            "AIRFLOW__API__BASE_URL": config.url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{config.url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": config.jwt_secret,
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{config.admin_user}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(config.passwords_file),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(config.home / "logs"),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            # The dbt docs site that the DAG's dbt_docs task regenerates, in the UI.
            "AIRFLOW__COSMOS__DBT_DOCS_PROJECTS": json.dumps(
                {DOCS_SLUG: {"dir": str(DBT_TARGET), "name": "dbt docs (ytempire)"}}
            ),
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "SCARF_ANALYTICS": "false",
            "DO_NOT_TRACK": "true",
        }
    )
    return env


def init_metadata_database(
    config: AirflowConfig,
    settings: Settings | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> None:
    """Create role ``airflow`` and its database if missing, then ``airflow db migrate``.

    Re-runnable: an up-to-date database is left as it is. Raises
    ``YTEmpireError`` with Airflow's output when the migration fails.
    """
    s = settings or get_settings()
    with pg_connect("admin", "postgres", autocommit=True, settings=s) as admin:
        role = admin.execute("select 1 from pg_roles where rolname = %s", (AIRFLOW_ROLE,))
        verb = "alter" if role.fetchone() else "create"
        admin.execute(
            sql.SQL(verb + " role {} login password {}").format(
                sql.Identifier(AIRFLOW_ROLE), sql.Literal(config.password)
            )
        )
        exists = admin.execute(
            "select 1 from pg_database where datname = %s", (config.database,)
        ).fetchone()
        if not exists:
            admin.execute(
                sql.SQL("create database {} owner {}").format(
                    sql.Identifier(config.database), sql.Identifier(AIRFLOW_ROLE)
                )
            )
            progress(f"created database {config.database} owned by role {AIRFLOW_ROLE}")
    write_passwords_file(config)
    progress("airflow db migrate")
    run_airflow(config, ["db", "migrate"], settings=s)


def write_passwords_file(config: AirflowConfig) -> None:
    """The simple auth manager's passwords file, holding the fixed local admin login."""
    config.home.mkdir(parents=True, exist_ok=True)
    config.passwords_file.write_text(json.dumps({config.admin_user: config.admin_password}))
    config.passwords_file.chmod(0o600)


def airflow_executable() -> str:
    """The ``airflow`` command of this environment."""
    return str(Path(sys.executable).with_name("airflow"))


def run_airflow(
    config: AirflowConfig,
    args: list[str],
    *,
    settings: Settings | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run one ``airflow`` CLI command to completion in the local stack's environment."""
    full_env = airflow_env(config, settings, env)
    result = subprocess.run(
        [airflow_executable(), *args], env=full_env, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        tail = (result.stdout + result.stderr)[-3000:]
        raise YTEmpireError(
            f"`airflow {' '.join(args)}` exited {result.returncode}:\n{tail}\n"
            f"Next: see the task logs under {config.home / 'logs'}."
        )
    return result


def api_ready(config: AirflowConfig) -> bool:
    """Does the api-server answer its health endpoint with 200?"""
    import urllib.request

    try:
        with urllib.request.urlopen(f"{config.url}/api/v2/monitor/health", timeout=5) as resp:  # noqa: S310
            return bool(resp.status == 200)
    except OSError:
        return False


def parse_dbt_project() -> Path:
    """``dbt parse``: write the manifest the DAG renders its dbt tasks from; return its path."""
    from ytempire.dbt_runner import run_dbt

    run_dbt("parse", quiet=True)
    return DBT_TARGET / "manifest.json"
