#!/usr/bin/env bash
# `make demo`: the warehouse's main job end to end on the local services.
# Each capability adds its step here; `make setup` has already run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '\n[ytempire demo] == %s\n' "$*"; }

step "services"
uv run --frozen ytempire doctor

step "kafka events: simulated traffic -> raw_events (dlt) -> processor (tables, Redis, alerts)"
uv run --frozen ytempire simulate events --rate 5000 --count 20000
uv run --frozen ytempire ingest events
uv run --frozen ytempire process events --idle-timeout 5
