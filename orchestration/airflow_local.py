"""Airflow on this machine: its metadata database, its environment, its four processes.

Airflow keeps its metadata in a database and role of its own on the
project's PostgreSQL (``YTEMPIRE_AIRFLOW_DATABASE``, role ``airflow``), runs
the LocalExecutor, and runs what a production Airflow runs: api-server,
scheduler, dag-processor and triggerer. Every process gets the environment
from :func:`airflow_env`, so they agree on the database URLs, the execution
API address and the JWT secret.

**No default key.** The JWT secret signs every token the api-server issues:
the UI's and the REST API's login tokens as well as the task tokens. Anyone
who holds it can forge an admin token. It and the UI's admin password are
generated per installation (:func:`load_or_create_secrets`) into
``$YTEMPIRE_AIRFLOW_HOME/ytempire-secrets.json`` (mode 0600), never printed;
``ytempire airflow login-info`` shows the login. ``YTEMPIRE_AIRFLOW_JWT_SECRET``
and ``YTEMPIRE_AIRFLOW_ADMIN_PASSWORD`` override them (a deployment's own).

**Loopback only, moved together.** Every listening socket is on 127.0.0.1 and
derives from ``YTEMPIRE_AIRFLOW_PORT`` (:data:`PORT_OFFSETS`), so a second stack
with another port collides nowhere: the api-server on the port itself, the
scheduler's health check at ``port + 894`` (Airflow's 8974 for the default
8080). The scheduler's and triggerer's log servers are not started
(``--skip-serve-logs``): they exist for workers on other hosts, and here every
process writes its logs to the one folder the api-server reads; their ports are
moved all the same (``port + 713``, ``port + 714``) in case one is started by hand.

Settings (each with one default):

* ``YTEMPIRE_AIRFLOW_HOME``: ``$YTEMPIRE_LOCAL_DIR/airflow`` (logs, secrets, passwords file)
* ``YTEMPIRE_AIRFLOW_DATABASE``: ``airflow``; ``YTEMPIRE_AIRFLOW_PG_PASSWORD``: ``airflow``
* ``YTEMPIRE_AIRFLOW_PORT``: ``8080`` (api-server and UI; the other ports follow it)
* ``YTEMPIRE_AIRFLOW_JWT_SECRET``, ``YTEMPIRE_AIRFLOW_ADMIN_PASSWORD``: generated per installation
* ``YTEMPIRE_AIRFLOW_ADMIN_USER``: ``admin``
* ``YTEMPIRE_AIRFLOW_PARALLELISM``: ``8`` (task slots of the LocalExecutor)
* ``YTEMPIRE_AIRFLOW_LIBRARY_LOGS``: empty; ``1`` keeps libraries' INFO lines in task logs
  (``orchestration.logs``)
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from psycopg import sql

from ytempire.clients import pg_connect
from ytempire.dbt_runner import target_dir
from ytempire.errors import YTEmpireError
from ytempire.settings import PROJECT_ROOT, Settings, get_settings

DAGS_FOLDER = PROJECT_ROOT / "airflow" / "dags"
PLUGINS_FOLDER = PROJECT_ROOT / "airflow" / "plugins"
DBT_TARGET = target_dir()  # $DBT_TARGET_PATH, by default dbt_project/target
AIRFLOW_ROLE = "airflow"
ANALYST_ROLE = "analyst"
# What a production Airflow runs. The triggerer runs deferred tasks (none of the
# project's tasks defer; see airflow/README "Execution mode") and keeps the UI's
# health panel honest.
PROCESSES = ("api-server", "scheduler", "dag-processor", "triggerer")
# Each process's command line: the log servers are for workers on other hosts.
PROCESS_ARGS = {
    "api-server": ["api-server"],
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
}
# Every port of the local Airflow, as an offset from YTEMPIRE_AIRFLOW_PORT: Airflow's
# own defaults (8080, 8974, 8793, 8794) for the default port, moved together otherwise.
PORT_OFFSETS = {
    "api-server": 0,
    "scheduler health check": 8974 - 8080,
    "scheduler log server": 8793 - 8080,
    "triggerer log server": 8794 - 8080,
}
LOOPBACK = "127.0.0.1"
# The dbt watchers hold a task slot while they wait; their pool leaves the rest of the
# slots to the dbt producer they wait for and to the other tasks (Airflow does not
# always honour the producer's priority, so priority alone could deadlock).
WATCHER_POOL = "dbt_watchers"
DOCS_SLUG = "ytempire"  # the dbt docs site is at /cosmos/<slug>/dbt_docs_index.html
SECRETS_FILE = "ytempire-secrets.json"
# What every task process imports before it runs (Airflow's task runner, Cosmos' watcher
# operators and their plugin's FastAPI, the DAG file's own modules): imported once, in
# the LocalExecutor's forkserver, and shared by every task forked from its workers,
# instead of 1.8 CPU-seconds of imports in each task (Airflow 3.3's
# [scheduler] mp_forkserver_preload). Airflow first: Cosmos imports it.
TASK_PRELOAD = (
    "airflow.sdk",
    "airflow.sdk.execution_time.task_runner",
    "airflow.sdk.execution_time.supervisor",
    "cosmos.operators.watcher",
    "cosmos.plugin.airflow3",
    "orchestration.dbt_tasks",
    "orchestration.logs",
    "orchestration.timetable",
)


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
    parallelism: int = 8

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> AirflowConfig:
        """The configuration from ``YTEMPIRE_AIRFLOW_*``; the generated secrets where unset.

        Creates ``$YTEMPIRE_AIRFLOW_HOME/ytempire-secrets.json`` on first use
        (:func:`load_or_create_secrets`).
        """
        s = settings or get_settings()
        env = os.environ.get
        home = Path(env("YTEMPIRE_AIRFLOW_HOME") or Path(s.local_dir) / "airflow")
        jwt_secret = env("YTEMPIRE_AIRFLOW_JWT_SECRET")
        admin_password = env("YTEMPIRE_AIRFLOW_ADMIN_PASSWORD")
        if not (jwt_secret and admin_password):
            generated = load_or_create_secrets(home)
            jwt_secret = jwt_secret or generated["jwt_secret"]
            admin_password = admin_password or generated["admin_password"]
        from ytempire.redaction import register_secret

        for secret in (jwt_secret, admin_password):  # hidden in whatever this process logs
            register_secret(secret)
        return cls(
            home=home,
            database=env("YTEMPIRE_AIRFLOW_DATABASE") or "airflow",
            password=env("YTEMPIRE_AIRFLOW_PG_PASSWORD") or "airflow",
            port=int(env("YTEMPIRE_AIRFLOW_PORT") or 8080),
            jwt_secret=jwt_secret,
            admin_user=env("YTEMPIRE_AIRFLOW_ADMIN_USER") or "admin",
            admin_password=admin_password,
            parallelism=int(env("YTEMPIRE_AIRFLOW_PARALLELISM") or 8),
        )

    def port_of(self, name: str) -> int:
        """The port of ``name`` (a key of :data:`PORT_OFFSETS`) for this stack."""
        return self.port + PORT_OFFSETS[name]

    @property
    def ports(self) -> dict[str, int]:
        """Every port this stack's Airflow uses or reserves, by what listens there."""
        return {name: self.port_of(name) for name in PORT_OFFSETS}

    @property
    def watcher_slots(self) -> int:
        """Slots of :data:`WATCHER_POOL`: all but three (the producer and two other tasks)."""
        return max(1, self.parallelism - 3)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def docs_url(self) -> str:
        return f"{self.url}/cosmos/{DOCS_SLUG}/dbt_docs_index.html"

    @property
    def passwords_file(self) -> Path:
        return self.home / "simple_auth_manager_passwords.json"

    @property
    def secrets_file(self) -> Path:
        return self.home / SECRETS_FILE

    def __repr__(self) -> str:  # the secrets stay out of tracebacks and logs
        return (
            f"AirflowConfig(home={str(self.home)!r}, database={self.database!r}, "
            f"port={self.port}, admin_user={self.admin_user!r})"
        )


def load_or_create_secrets(home: Path) -> dict[str, str]:
    """The installation's JWT secret and admin password, generated once into ``home``.

    ``home/ytempire-secrets.json`` (mode 0600) holds ``jwt_secret`` (32 random
    bytes, URL-safe base64) and ``admin_password`` (16); an existing file is
    read and kept, a missing key is added. Nothing is printed.
    """
    path = home / SECRETS_FILE
    stored: dict[str, str] = {}
    if path.is_file():
        stored = json.loads(path.read_text())
    wanted = {"jwt_secret": 32, "admin_password": 16}
    missing = {key: n for key, n in wanted.items() if not stored.get(key)}
    if missing:
        stored.update({key: secrets.token_urlsafe(n) for key, n in missing.items()})
        home.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name with its final mode, then renamed: no window
        # in which another user can read it, no half-written file for a concurrent reader.
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(stored, out)
        if path.is_file():  # another process created it meanwhile: theirs wins
            partial.unlink()
            return load_or_create_secrets(home)
        partial.rename(path)
    return stored


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
    # Every task is a new process that imports Airflow's task runner and parses the DAG
    # file (Cosmos renders ~100 tasks from the manifest): without cached bytecode each one
    # compiles hundreds of modules first (17 s per task, measured at load 10, against
    # 5 s with the cache). A shell that sets PYTHONDONTWRITEBYTECODE would impose that
    # on every task of the stack; Airflow's processes cache their bytecode as any
    # installed Python does (and `uv sync --compile-bytecode` compiles the packages ahead).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        {
            "AIRFLOW_HOME": str(config.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # Task slots. The dbt watchers hold one while they wait (poke mode, see the
            # DAG); the producer's priority puts it first in line.
            "AIRFLOW__CORE__PARALLELISM": str(config.parallelism),
            # The LocalExecutor's workers come from a forkserver that has imported what
            # every task imports (TASK_PRELOAD); each task is a fork of a worker.
            "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
            "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD": ",".join(TASK_PRELOAD),
            # One parse of the DAG file took over a minute at load 12 (2 cores): past
            # Airflow's 30 s import and 50 s processor timeouts the DAG is never stored,
            # and the dag-processor tries again only after MIN_FILE_PROCESS_INTERVAL.
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
            "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "360",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": url,
            "AIRFLOW__API__HOST": LOOPBACK,
            "AIRFLOW__API__PORT": str(config.port),
            "AIRFLOW__API__BASE_URL": config.url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{config.url}/execution/",
            # A task's first call to the execution API timed out at the default 5 s on a
            # loaded 2-core machine: the workload failed before the task started and the
            # scheduler read it as killed ("finished with state failed, but the task
            # instance's state attribute is queued"). The api-server is local; wait for it.
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
            "AIRFLOW__API_AUTH__JWT_SECRET": config.jwt_secret,
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{config.admin_user}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(config.passwords_file),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(config.home / "logs"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(config.port_of("scheduler log server")),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(
                config.port_of("triggerer log server")
            ),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": LOOPBACK,
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(
                config.port_of("scheduler health check")
            ),
            # A new DAG is paused; unpausing schedules the next quota day only (see
            # the DAG's timetable), never a day in the past.
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            # The dbt docs site that the DAG's dbt_docs task regenerates, in the UI.
            "AIRFLOW__COSMOS__DBT_DOCS_PROJECTS": json.dumps(
                {DOCS_SLUG: {"dir": str(DBT_TARGET), "name": "dbt docs (ytempire)"}}
            ),
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            # Cosmos keeps each dbt group's last partial_parse.msgpack in a cache folder and
            # hands the newer of it and <project>/target's to the next dbt command. Its
            # default, <tmp>/cosmos, is one folder for every installation on the machine:
            # a test's or a bench's stack, whose dbt profile names another database, left
            # a msgpack there that dbt refused ("profile has changed"), and the next
            # producer parsed the whole project again. One folder per installation.
            "AIRFLOW__COSMOS__CACHE_DIR": str(config.home / "cosmos"),
            # The manifest (1.6 MB) is parsed by every task process, once per dbt group.
            "AIRFLOW__COSMOS__ENABLE_ORJSON_PARSER": "True",
            # The dag-processor re-parses a DAG file this often even when nothing changed
            # (Airflow's default: 30 s). One parse of this DAG costs 5-15 CPU-seconds on
            # this machine, a third of a core at the default; a changed file is parsed at
            # once whatever the interval. A newly published manifest (``ytempire airflow
            # init``) shows within it.
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "300",
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
    """Create role ``airflow`` and its database if missing, close it to others, migrate it.

    Re-runnable: an up-to-date database is left as it is. Whatever order setup
    runs in, only the ``airflow`` role (its owner) and superusers may connect
    to the metadata database or create temporary tables there: PostgreSQL
    grants both to PUBLIC on every new database, and ``sql/90_grants.sql``'s
    sweep only closes the databases that exist when ``db init`` runs. Raises
    ``YTEmpireError`` with Airflow's output when the migration fails.
    """
    s = settings or get_settings()
    create_metadata_database(config, s, progress)
    write_passwords_file(config)
    progress("airflow db migrate")
    run_airflow(config, ["db", "migrate"], settings=s)
    set_watcher_pool(config, s, progress)


def set_watcher_pool(
    config: AirflowConfig,
    settings: Settings | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> None:
    """Create or resize :data:`WATCHER_POOL` to :attr:`AirflowConfig.watcher_slots`."""
    run_airflow(
        config,
        [
            "pools",
            "set",
            WATCHER_POOL,
            str(config.watcher_slots),
            "dbt watchers (Cosmos) waiting on their group's dbt build",
        ],
        settings=settings,
    )
    progress(f"pool {WATCHER_POOL}: {config.watcher_slots} slots")


def create_metadata_database(
    config: AirflowConfig,
    settings: Settings,
    progress: Callable[[str], None] = lambda _msg: None,
) -> None:
    """Role ``airflow`` (password set) and its database, created if missing, closed to others.

    Only the owner and superusers may connect to the metadata database or make
    temporary tables there (:func:`close_metadata_database`), run after every
    ``db init`` or before it.
    """
    s = settings
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
        close_metadata_database(admin, config.database)


def close_metadata_database(admin: Any, database: str) -> None:
    """Revoke CONNECT and TEMPORARY on ``database`` from PUBLIC (and the analyst, if any).

    The owner (role ``airflow``) keeps both; ``admin`` is a superuser connection.
    """
    admin.execute(
        sql.SQL("revoke connect, temporary on database {} from public").format(
            sql.Identifier(database)
        )
    )
    if admin.execute("select 1 from pg_roles where rolname = %s", (ANALYST_ROLE,)).fetchone():
        admin.execute(
            sql.SQL("revoke all on database {} from {}").format(
                sql.Identifier(database), sql.Identifier(ANALYST_ROLE)
            )
        )


def write_passwords_file(config: AirflowConfig) -> None:
    """The simple auth manager's passwords file (mode 0600), holding the admin login."""
    config.home.mkdir(parents=True, exist_ok=True)
    fd = os.open(config.passwords_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({config.admin_user: config.admin_password}, out)
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
    """``dbt parse``, then publish the manifest the DAG renders its dbt tasks from; its path.

    The DAG reads the published copy (``ytempire.dbt_runner.publish_manifest``),
    never the ``manifest.json`` dbt rewrites in place. Run in the environment of
    the stack's tasks (``ytempire airflow start`` does), the parse also leaves
    dbt's ``partial_parse.msgpack`` for the profile those tasks render (same
    ``YTEMPIRE_PG_*``, ``--profile``, ``--target``, no ``--vars``). Cosmos hands
    each dbt group's producer the newer of ``<project>/target``'s msgpack and
    its own cache's, so with dbt's default target the producer parses only what
    changed since: 3.5-4 s instead of a full parse's 12-24 s (this machine, load
    2-9). A ``$DBT_TARGET_PATH`` elsewhere (the test suite's) is not where
    Cosmos looks: the first producer parses in full and caches its own. dbt
    refuses a msgpack of another dbt version, profile, target or vars, and
    re-reads every file whose checksum changed: an outdated msgpack costs a full
    parse, never a stale node (tests/test_manifest_publish.py).
    """
    from ytempire.dbt_runner import publish_manifest, published_manifest, run_dbt

    run_dbt("parse", quiet=True)
    publish_manifest()
    return published_manifest()


def ensure_dag_manifest() -> Path:
    """The published manifest the DAG renders from, made when missing; its path.

    Publishes dbt's last ``target/manifest.json`` when it is a whole manifest,
    else runs :func:`parse_dbt_project`. Called before ``airflow dags test``
    parses the DAG file: a fresh checkout, or a target folder that only dbt
    commands wrote, has none. (``ytempire airflow start`` always runs
    :func:`parse_dbt_project`.)
    """
    from ytempire.dbt_runner import publish_manifest, published_manifest

    path = published_manifest()
    if path.is_file():
        return path
    try:
        publish_manifest()
    except YTEmpireError:
        return parse_dbt_project()
    return path
