#!/usr/bin/env bash
# `make demo`: the warehouse's main job end to end on the local services.
# Each capability adds its step here; `make setup` has already run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '\n[ytempire demo] == %s\n' "$*"; }

step "services"
uv run --frozen ytempire doctor

step "dbt warehouse: build, analyst views, docs"
# Until the landers have filled raw_youtube, land a simulated network directly.
uv run --frozen ytempire warehouse simulate --if-empty --days 14 --channels 25
uv run --frozen ytempire warehouse build
uv run --frozen ytempire warehouse show --limit 3
uv run --frozen ytempire warehouse docs
