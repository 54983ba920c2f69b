"""The `ytempire` command line: doctor's report and its errors for stopped services."""

from __future__ import annotations

import pytest

from tests.cli import run_ytempire

pytestmark = pytest.mark.services


def test_doctor_reports_every_service_up(tmp_path):
    # No app service runs from an empty services folder: each is reported, none is an error.
    result = run_ytempire("doctor", YTEMPIRE_SERVICES_DIR=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    infra, _, apps = result.stdout.partition("app services")
    lines = {line.split()[0]: line.split()[1] for line in infra.splitlines()}
    assert lines == {"postgres": "up", "redis": "up", "kafka": "up", "spark": "up"}
    states = {line.split()[0]: line.split()[1] for line in apps.splitlines()[1:]}
    assert states == dict.fromkeys(("processor", "outbox", "webhook", "windows"), "stopped")
    asked = run_ytempire("doctor", "--apps", YTEMPIRE_SERVICES_DIR=str(tmp_path))
    assert asked.returncode == 1
    assert "down: processor, outbox, webhook, windows" in asked.stderr


@pytest.mark.parametrize(
    ("variable", "value", "service", "message"),
    [
        ("YTEMPIRE_PG_PORT", "1", "postgres", "PostgreSQL is down or unreachable at 127.0.0.1:1"),
        ("YTEMPIRE_REDIS_URL", "redis://127.0.0.1:1/0", "redis", "Redis is down or unreachable"),
        ("YTEMPIRE_KAFKA_BOOTSTRAP", "127.0.0.1:1", "kafka", "Kafka is down or unreachable"),
    ],
)
def test_doctor_names_a_stopped_service(variable, value, service, message):
    result = run_ytempire("doctor", **{variable: value})
    assert result.returncode == 1
    down = [line for line in result.stdout.splitlines() if line.split()[1] == "DOWN"]
    assert [line.split()[0] for line in down] == [service]
    assert message in down[0]
    assert "make services-start" in down[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert f"down: {service}" in result.stderr


def test_service_error_from_a_command_is_one_line_with_exit_code_2():
    result = run_ytempire("db", "init", YTEMPIRE_PG_PORT="1")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: PostgreSQL is down or unreachable")
