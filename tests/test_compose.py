"""docker-compose.yml agrees with the settings module (no Docker engine runs here)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import yaml

from ytempire.settings import PROJECT_ROOT, Settings, env_variables

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DEFAULTS = Settings()
_VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::-(?P<default>[^}]*))?\}")


def _published(service: str) -> dict[int, str]:
    """container port -> host port expression, for a service's published ports."""
    out = {}
    for spec in SERVICES[service].get("ports", []):
        *host, container = spec.rsplit(":", 1)
        out[int(container)] = host[0].split(":", 1)[1] if host else container
    return out


def _resolve(expr: str) -> str:
    return _VAR.sub(lambda m: m.group("default") or "", expr)


@pytest.mark.parametrize(
    "service",
    [
        "postgres",
        "redis",
        "kafka",
        "spark-master",
        "spark-worker",
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "event-processor",
        "outbox-relay",
        "webhook",
        "stream-windows",
    ],
)
def test_stack_has_service(service):
    assert service in SERVICES


def test_images_are_the_versions_the_project_runs():
    from importlib.metadata import version

    assert SERVICES["postgres"]["image"].startswith("postgres:15")
    assert SERVICES["redis"]["image"].startswith("redis:7")
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:4.")
    spark = version("pyspark")
    assert SERVICES["spark-master"]["image"] == f"apache/spark:{spark}"
    # the worker runs the project image (its executors call the event contract in Python),
    # whose locked pyspark is the master's Spark
    assert SERVICES["spark-worker"]["image"] == SERVICES["init"]["image"]
    assert SERVICES["spark-worker"]["command"][0] == "spark-class"


def test_kafka_runs_kraft_without_zookeeper():
    env = SERVICES["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "zookeeper" not in SERVICES


def test_host_ports_default_to_the_settings_defaults():
    assert _resolve(_published("postgres")[5432]) == str(DEFAULTS.pg_port)
    assert _resolve(_published("redis")[6379]) == str(urlsplit(DEFAULTS.redis_url).port)
    kafka_port = DEFAULTS.kafka_bootstrap.rsplit(":", 1)[1]
    assert _resolve(_published("kafka")[9092]) == kafka_port
    # The broker advertises the same address the host-side settings use.
    advertised = SERVICES["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert f"EXTERNAL://{_resolve(DEFAULTS.kafka_bootstrap.split(':')[0])}:" in advertised


def test_host_ports_bind_loopback_only():
    for name, service in SERVICES.items():
        for spec in service.get("ports", []):
            assert spec.startswith("127.0.0.1:"), f"{name} publishes {spec} beyond loopback"


def test_container_env_sets_every_setting():
    env = COMPOSE["x-ytempire-env"]
    assert set(env) == set(env_variables())


def test_compose_defaults_equal_settings_defaults():
    env = COMPOSE["x-ytempire-env"]
    documented = env_variables()
    for name, value in env.items():
        for match in _VAR.finditer(str(value)):
            assert match.group("name") == name
            assert match.group("default") == str(documented[name][0]), name


def test_every_ytempire_variable_in_compose_is_a_setting():
    text = (PROJECT_ROOT / "docker-compose.yml").read_text()
    used = {m.group("name") for m in _VAR.finditer(text) if m.group("name").startswith("YTEMPIRE_")}
    assert used <= set(env_variables()), used - set(env_variables())


def test_containers_reach_services_by_compose_name():
    env = COMPOSE["x-ytempire-env"]
    assert env["YTEMPIRE_PG_HOST"] == "postgres"
    assert urlsplit(env["YTEMPIRE_REDIS_URL"]).hostname == "redis"
    assert env["YTEMPIRE_KAFKA_BOOTSTRAP"].split(":")[0] == "kafka"
    assert (
        "INTERNAL://kafka:29092" in SERVICES["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    )
    assert env["YTEMPIRE_SPARK_MASTER"] == "spark://spark-master:7077"


AIRFLOW_SERVICES = {
    "airflow-api-server": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}


@pytest.mark.parametrize(("service", "command"), AIRFLOW_SERVICES.items())
def test_airflow_services_run_the_project_image_with_it_mounted(service, command):
    spec = SERVICES[service]
    run = spec["command"]
    assert run == ["airflow", command] or run[-1].rstrip().endswith(f"exec airflow {command}")
    assert ".:/opt/ytempire" in spec["volumes"]
    assert spec["environment"]["AIRFLOW__CORE__DAGS_FOLDER"].startswith("/opt/ytempire/airflow")
    assert spec["environment"]["AIRFLOW__CORE__PLUGINS_FOLDER"] == "/opt/ytempire/airflow/plugins"


def test_the_schedulers_workers_preload_what_the_local_stacks_do():
    from orchestration.airflow_local import TASK_PRELOAD

    env = SERVICES["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__SCHEDULER__MP_START_METHOD"] == "forkserver"
    assert env["AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD"].split(",") == list(TASK_PRELOAD)


# `${NAME:?message}`: compose refuses to start when NAME is unset or empty.
_REQUIRED = re.compile(r"^\$\{(?P<name>[A-Z0-9_]+):\?[^}]+\}$")


@pytest.mark.parametrize("service", [*AIRFLOW_SERVICES, "airflow-init"])
def test_airflow_refuses_to_start_without_its_secret_and_admin_password(service):
    """No default key: the JWT secret (it signs every API token) and the login are required."""
    env = SERVICES[service]["environment"]
    secret = _REQUIRED.match(env["AIRFLOW__API_AUTH__JWT_SECRET"])
    password = _REQUIRED.match(env["AIRFLOW_ADMIN_PASSWORD"])
    assert secret, env["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert secret.group("name") == "AIRFLOW_JWT_SECRET"
    assert password, env["AIRFLOW_ADMIN_PASSWORD"]
    assert password.group("name") == "AIRFLOW_ADMIN_PASSWORD"


def test_no_airflow_secret_has_a_default_anywhere():
    text = (PROJECT_ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"AIRFLOW_(JWT_SECRET|ADMIN_PASSWORD):-", text)
    assert "change-me" not in text
    example = (PROJECT_ROOT / ".env.example").read_text()
    assert not re.search(r"^#? ?(YTEMPIRE_)?AIRFLOW_JWT_SECRET=\S", example, re.M)
    assert not re.search(r"^#? ?(YTEMPIRE_)?AIRFLOW_ADMIN_PASSWORD=\S", example, re.M)


def test_the_api_server_writes_the_admin_login_from_the_required_password():
    spec = SERVICES["airflow-api-server"]
    script = spec["command"][-1]
    assert 'os.environ["AIRFLOW_ADMIN_PASSWORD"]' in script
    assert "umask(0o077)" in script
    env = spec["environment"]
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] in script or (
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in script
    )


def test_env_example_documents_every_setting():
    example = (PROJECT_ROOT / ".env.example").read_text()
    for name in env_variables():
        assert re.search(rf"^#? ?{name}=", example, re.M), f"{name} missing from .env.example"


# compose service -> the app service `ytempire services` runs locally with the same command.
APP_SERVICES = {
    "event-processor": "processor",
    "outbox-relay": "outbox",
    "webhook": "webhook",
    "stream-windows": "windows",
}


@pytest.mark.parametrize(("service", "app"), APP_SERVICES.items())
def test_app_services_run_the_local_stacks_commands(service, app):
    from ytempire_cli.services import app_services

    assert SERVICES[service]["command"] == ["ytempire", *app_services(DEFAULTS)[app].args]


def test_every_app_service_is_in_compose():
    from ytempire_cli.services import SERVICE_NAMES

    assert sorted(APP_SERVICES.values()) == sorted(SERVICE_NAMES)


@pytest.mark.parametrize(("service", "app"), APP_SERVICES.items())
def test_app_services_restart_and_check_their_health(service, app):
    spec = SERVICES[service]
    assert spec["restart"] == "unless-stopped"
    assert spec["healthcheck"]["test"] == ["CMD", "ytempire", "services", "check", app]
    # Docker's grace before SIGKILL is at least the local stack's own.
    from ytempire.supervisor import STOP_TIMEOUT_S

    assert int(spec["stop_grace_period"].removesuffix("s")) >= STOP_TIMEOUT_S


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_wait_for_the_initialised_stack(service):
    depends = SERVICES[service]["depends_on"]
    assert depends["init"] == {"condition": "service_completed_successfully"}
    for name, condition in depends.items():
        assert name in SERVICES
        assert condition["condition"] in {
            "service_started",
            "service_healthy",
            "service_completed_successfully",
        }


def test_webhook_listens_in_its_container_and_publishes_on_loopback():
    spec = SERVICES["webhook"]
    assert spec["environment"]["YTEMPIRE_WEBHOOK_HOST"] == "0.0.0.0"
    assert _resolve(_published("webhook")[DEFAULTS.webhook_port]) == str(DEFAULTS.webhook_port)
    assert COMPOSE["x-ytempire-env"]["YTEMPIRE_WEBHOOK_PORT"] == str(DEFAULTS.webhook_port)
