# YTEmpire warehouse. The README's two commands: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
# setup installs uv into ~/.local/bin, which a fresh shell's PATH lacks.
export PATH := $(HOME)/.local/bin:$(PATH)
UV := uv run --frozen
# Airflow reads PostgreSQL: stopping the services stops it first (nothing to stop before setup).
AIRFLOW_STOP := if [ -x .venv/bin/ytempire ]; then $(UV) ytempire airflow stop; fi

# Optional local overrides of the YTEMPIRE_* variables (see .env.example).
-include .env
export

.PHONY: help setup jars services-start services-stop services-status doctor demo test test-scheduler lint format \
	airflow airflow-stop test-unit up down

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

setup: ## Install everything and start the local services (idempotent)
	@bash scripts/setup.sh

jars: ## Resolve the Kafka broker, Spark connector and JDBC jars from Maven Central
	mvn -q -B -f jvm/pom.xml package

services-start: ## Start PostgreSQL, Redis and Kafka on loopback
	@bash scripts/services.sh start

services-stop: ## Stop what setup and `make airflow` started (Airflow first: it reads the database)
	@$(AIRFLOW_STOP)
	@bash scripts/services.sh stop

services-status: ## Is each local service listening?
	@bash scripts/services.sh status

up: ## Start the infrastructure, then the app services (processor, outbox, webhook, Spark windows)
	@bash scripts/services.sh start all

down: ## Stop Airflow and the app services, then the infrastructure: everything `make demo` left running
	@$(AIRFLOW_STOP)
	@bash scripts/services.sh stop all

doctor: ## Health and version of every service
	@$(UV) ytempire doctor

airflow: ## Start Airflow (api-server, scheduler, dag-processor, triggerer) on loopback; print the UI address
	@$(UV) ytempire airflow start

airflow-stop: ## Stop the Airflow processes `make airflow` started
	@$(UV) ytempire airflow stop

demo: setup ## The main job end to end on the local services and simulated network
	@bash scripts/demo.sh

test: setup ## The test suite, against the real services
	$(UV) pytest

test-unit: ## The tests that need no service (pytest -m "not services"); starts nothing
	$(UV) pytest -m "not services"

test-scheduler: setup ## Only the scheduler end-to-end days (tests/airflow/test_scheduler.py; `make test` runs them too)
	$(UV) pytest -m scheduled_days tests/airflow/test_scheduler.py

lint: ## ruff, mypy, the import layering (import-linter) and sqlfluff
	$(UV) ruff check .
	$(UV) ruff format --check .
	$(UV) lint-imports
	$(UV) mypy ytempire ytempire_cli ingestion streaming platform_services orchestration \
		simulation reporting expectations monitoring
	# macros/ is linted through the SQL it emits in the models (.sqlfluff:
	# ignore_templated_areas = false); sqlfluff skips macro files themselves.
	cd dbt_project && $(UV) sqlfluff lint models snapshots tests analyses --processes 1

format: ## Apply ruff's formatting and fixes
	$(UV) ruff format .
	$(UV) ruff check --fix .
