"""Settings read from the environment, each with one documented default.

Every process of the warehouse (CLI, dlt pipelines, Spark jobs, Airflow tasks,
tests) reads its configuration here and nowhere else. The defaults describe
the local stack that ``make setup`` starts on loopback; ``.env.example`` and
``docker-compose.yml`` use the same variable names.

A variable is read when :func:`get_settings` is first called; tests that
change the environment call ``get_settings.cache_clear()``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from ytempire.topics import CHANNEL_EVENTS, USER_EVENTS, VIDEO_EVENTS

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _env_int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def setting(env: str, default: Any, doc: str) -> Any:
    """Declare a settings field bound to environment variable ``env``."""
    return field(default=default, metadata={"env": env, "doc": doc})


@dataclass(frozen=True)
class PostgresRole:
    """Credentials of one PostgreSQL login role."""

    user: str
    password: str


@dataclass(frozen=True)
class Settings:
    """The warehouse's configuration. Field metadata names the variable."""

    pg_host: str = setting("YTEMPIRE_PG_HOST", "127.0.0.1", "PostgreSQL host.")
    pg_port: int = setting("YTEMPIRE_PG_PORT", 5432, "PostgreSQL port.")
    pg_database: str = setting("YTEMPIRE_PG_DATABASE", "ytempire", "The warehouse database.")
    pg_admin_user: str = setting(
        "YTEMPIRE_PG_ADMIN_USER", "postgres", "Superuser that applies the DDL in sql/."
    )
    pg_admin_password: str = setting(
        "YTEMPIRE_PG_ADMIN_PASSWORD", "postgres", "Password of the superuser."
    )
    pg_loader_password: str = setting(
        "YTEMPIRE_PG_LOADER_PASSWORD", "loader", "Password of role ytempire_loader."
    )
    pg_transformer_password: str = setting(
        "YTEMPIRE_PG_TRANSFORMER_PASSWORD",
        "transformer",
        "Password of role ytempire_transformer.",
    )
    pg_analyst_password: str = setting(
        "YTEMPIRE_PG_ANALYST_PASSWORD", "analyst", "Password of the read-only role analyst."
    )
    redis_url: str = setting(
        "YTEMPIRE_REDIS_URL", "redis://127.0.0.1:6379/0", "Redis URL (db number included)."
    )
    kafka_bootstrap: str = setting(
        "YTEMPIRE_KAFKA_BOOTSTRAP", "127.0.0.1:9092", "Kafka bootstrap servers, comma-separated."
    )
    spark_master: str = setting("YTEMPIRE_SPARK_MASTER", "local[2]", "Spark master URL.")
    spark_shuffle_partitions: int = setting(
        "YTEMPIRE_SPARK_SHUFFLE_PARTITIONS", 4, "spark.sql.shuffle.partitions."
    )
    webhook_secret: str = setting(
        "YTEMPIRE_WEBHOOK_SECRET",
        "dev-webhook-secret",
        "Shared secret of the HMAC-SHA256 webhook signatures (set a real one outside dev).",
    )
    webhook_max_body_bytes: int = setting(
        "YTEMPIRE_WEBHOOK_MAX_BODY_BYTES", 16_384, "Largest webhook body accepted, in bytes."
    )
    webhook_signature_tolerance_s: int = setting(
        "YTEMPIRE_WEBHOOK_SIGNATURE_TOLERANCE_S",
        300,
        "Largest gap, in seconds, between a delivery's signed timestamp and the server clock.",
    )
    webhook_header_timeout_s: int = setting(
        "YTEMPIRE_WEBHOOK_HEADER_TIMEOUT_S",
        10,
        "Seconds a client has to send a request's headers before the webhook cuts it.",
    )
    webhook_body_timeout_s: int = setting(
        "YTEMPIRE_WEBHOOK_BODY_TIMEOUT_S",
        10,
        "Seconds a client has to send a request's body before the webhook cuts it.",
    )
    webhook_max_connections: int = setting(
        "YTEMPIRE_WEBHOOK_MAX_CONNECTIONS",
        100,
        "Open connections the webhook holds; more are answered 503 and closed.",
    )
    webhook_docs: int = setting(
        "YTEMPIRE_WEBHOOK_DOCS", 0, "1 serves the webhook's /docs and /openapi.json (0: off)."
    )
    webhook_host: str = setting(
        "YTEMPIRE_WEBHOOK_HOST", "127.0.0.1", "Address the webhook service listens on."
    )
    webhook_port: int = setting("YTEMPIRE_WEBHOOK_PORT", 8088, "Port of the webhook service.")
    processor_group_id: str = setting(
        "YTEMPIRE_PROCESSOR_GROUP_ID",
        "ytempire-event-processor",
        "Kafka consumer group of the event processor (`ytempire process events`).",
    )
    processor_topics: str = setting(
        "YTEMPIRE_PROCESSOR_TOPICS",
        ",".join(t.name for t in (VIDEO_EVENTS, CHANNEL_EVENTS, USER_EVENTS)),
        "Topics the event processor reads, comma-separated.",
    )
    services_dir: str = setting(
        "YTEMPIRE_SERVICES_DIR",
        "",
        "Pid and log files of the app services (default: $YTEMPIRE_LOCAL_DIR/services).",
    )
    local_dir: str = setting(
        "YTEMPIRE_LOCAL_DIR",
        str(PROJECT_ROOT / ".local"),
        "Folder for local services' data, logs and resolved jars.",
    )
    reports_dir: str = setting(
        "YTEMPIRE_REPORTS_DIR",
        "",
        "Folder of the daily report's pages (default: $YTEMPIRE_LOCAL_DIR/reports).",
    )
    data_docs_dir: str = setting(
        "YTEMPIRE_DATA_DOCS_DIR",
        "",
        "Folder of the Great Expectations Data Docs site (default: "
        "$YTEMPIRE_LOCAL_DIR/data_docs/gx).",
    )
    redis_key_prefix: str = setting(
        "YTEMPIRE_REDIS_KEY_PREFIX", "ytempire:", "Prefix of every Redis key the warehouse writes."
    )
    youtube_api_url: str = setting(
        "YTEMPIRE_YOUTUBE_API_URL",
        "http://127.0.0.1:8085/",
        "YouTube Data API root (the local simulator; https://youtube.googleapis.com/ for real).",
    )
    youtube_api_key: str = setting(
        "YTEMPIRE_YOUTUBE_API_KEY", "simulator-key", "API key sent as the `key` parameter."
    )
    youtube_daily_quota: int = setting(
        "YTEMPIRE_YOUTUBE_DAILY_QUOTA", 10_000, "Quota units all collectors share per Pacific day."
    )
    youtube_cache_ttl_s: int = setting(
        "YTEMPIRE_YOUTUBE_CACHE_TTL_S", 3600, "TTL of the last good response cached per channel."
    )
    youtube_refresh_last_n: int = setting(
        "YTEMPIRE_YOUTUBE_REFRESH_LAST_N",
        10,
        "Statistics are refreshed for each channel's last N uploads.",
    )
    youtube_refresh_days: int = setting(
        "YTEMPIRE_YOUTUBE_REFRESH_DAYS", 0, "Also refresh uploads of the last D days (0: off)."
    )
    youtube_channels: str = setting(
        "YTEMPIRE_YOUTUBE_CHANNELS",
        "",
        "Comma-separated channel ids to collect (empty: active rows of ytempire.channels).",
    )
    youtube_reporting_api_url: str = setting(
        "YTEMPIRE_YOUTUBE_REPORTING_API_URL",
        "http://127.0.0.1:8085/",
        "YouTube Reporting API root (the local simulator; https://youtubereporting.googleapis.com/ "
        "for real).",
    )
    youtube_analytics_api_url: str = setting(
        "YTEMPIRE_YOUTUBE_ANALYTICS_API_URL",
        "http://127.0.0.1:8085/",
        "YouTube Analytics API root (the local simulator; https://youtubeanalytics.googleapis.com/ "
        "for real).",
    )
    youtube_oauth_token_uri: str = setting(
        "YTEMPIRE_YOUTUBE_OAUTH_TOKEN_URL",
        "http://127.0.0.1:8085/token",
        "OAuth 2.0 token endpoint that refreshes the channels' tokens (the local simulator; "
        "https://oauth2.googleapis.com/token for real).",
    )
    youtube_token_store: str = setting(
        "YTEMPIRE_YOUTUBE_TOKEN_STORE_PATH",
        "",
        "JSON file holding the OAuth client and each channel's refresh token, mode 0600, outside "
        "the repository (default: $YTEMPIRE_LOCAL_DIR/youtube_tokens.json).",
    )
    youtube_reporting_daily_quota: int = setting(
        "YTEMPIRE_YOUTUBE_REPORTING_DAILY_QUOTA",
        50_000,
        "Reporting API requests all landers share per Pacific day (the project's limit in the "
        "Google Cloud console).",
    )
    youtube_analytics_daily_quota: int = setting(
        "YTEMPIRE_YOUTUBE_ANALYTICS_DAILY_QUOTA",
        50_000,
        "Analytics API requests all landers share per Pacific day (the project's limit in the "
        "Google Cloud console).",
    )
    report_email_to: str = setting(
        "YTEMPIRE_REPORT_EMAIL_TO",
        "",
        "Comma-separated recipients of the daily report (mailed via Airflow's SMTP settings).",
    )

    @classmethod
    def from_env(cls) -> Settings:
        values: dict[str, object] = {}
        for f in fields(cls):
            env, default = f.metadata["env"], f.default
            if isinstance(default, int):
                values[f.name] = _env_int(env, default)
            else:
                values[f.name] = _env(env, str(default))
        return cls(**values)  # type: ignore[arg-type]

    # Roles are fixed by sql/00_roles.sql; only their passwords are configured.
    @property
    def admin(self) -> PostgresRole:
        return PostgresRole(self.pg_admin_user, self.pg_admin_password)

    @property
    def loader(self) -> PostgresRole:
        return PostgresRole("ytempire_loader", self.pg_loader_password)

    @property
    def transformer(self) -> PostgresRole:
        return PostgresRole("ytempire_transformer", self.pg_transformer_password)

    @property
    def analyst(self) -> PostgresRole:
        return PostgresRole("analyst", self.pg_analyst_password)

    def role(self, name: str) -> PostgresRole:
        """Return the credentials of ``admin``, ``loader``, ``transformer`` or ``analyst``."""
        if name not in ROLE_NAMES:
            raise ValueError(f"unknown role {name!r}; expected one of {', '.join(ROLE_NAMES)}")
        role: PostgresRole = getattr(self, name)
        return role

    @property
    def jars_dir(self) -> Path:
        return Path(self.local_dir) / "jars"

    @property
    def dlt_pipelines_dir(self) -> Path:
        """Where dlt keeps its working folders (state is also stored in the destination)."""
        return Path(self.local_dir) / "dlt"

    @property
    def youtube_token_store_path(self) -> Path:
        """The channels' OAuth token store (``YTEMPIRE_YOUTUBE_TOKEN_STORE_PATH``)."""
        return Path(self.youtube_token_store or Path(self.local_dir) / "youtube_tokens.json")

    @property
    def services_path(self) -> Path:
        """Folder of the app services' pid and log files (``ytempire services``)."""
        return Path(self.services_dir or Path(self.local_dir) / "services")

    @property
    def reports_path(self) -> Path:
        """Folder of the daily report's HTML pages and text summaries."""
        return Path(self.reports_dir or Path(self.local_dir) / "reports")

    @property
    def data_docs_path(self) -> Path:
        """Folder of the Great Expectations Data Docs site (``index.html`` at its root)."""
        return Path(self.data_docs_dir or Path(self.local_dir) / "data_docs" / "gx")

    @property
    def processor_topic_list(self) -> list[str]:
        return [t.strip() for t in self.processor_topics.split(",") if t.strip()]

    def jdbc_url(self, database: str | None = None) -> str:
        return f"jdbc:postgresql://{self.pg_host}:{self.pg_port}/{database or self.pg_database}"


ROLE_NAMES = ("admin", "loader", "transformer", "analyst")


def env_variables() -> dict[str, tuple[object, str]]:
    """Map every environment variable to its (default, description)."""
    return {f.metadata["env"]: (f.default, f.metadata["doc"]) for f in fields(Settings)}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


def shell_exports(s: Settings) -> dict[str, str]:
    """What the setup scripts need to know, as shell variables."""
    from urllib.parse import urlsplit

    kafka_port = int(s.kafka_bootstrap.split(",")[0].rsplit(":", 1)[1])
    return {
        "LOCAL_DIR": s.local_dir,
        "PG_PORT": str(s.pg_port),
        "PG_ADMIN_USER": s.pg_admin_user,
        "PG_ADMIN_PASSWORD": s.pg_admin_password,
        "REDIS_PORT": str(urlsplit(s.redis_url).port or 6379),
        "KAFKA_PORT": str(kafka_port),
        "KAFKA_CONTROLLER_PORT": str(kafka_port + 1),
    }


if __name__ == "__main__":
    import shlex
    import sys

    if sys.argv[1:] != ["--shell"]:
        sys.exit("usage: python -m ytempire.settings --shell")
    for key, value in shell_exports(get_settings()).items():
        print(f"{key}={shlex.quote(value)}")
