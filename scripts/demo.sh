#!/usr/bin/env bash
# `make demo`: the warehouse's main job end to end on the local services.
# Each capability adds its step here; `make setup` has already run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.local/bin:$PATH" # where setup installs uv
step() { printf '\n[ytempire demo] == %s\n' "$*"; }

step "services"
uv run --frozen ytempire doctor

step "youtube: simulated API, three quota days landed in raw_youtube"
YT_PORT="${YTEMPIRE_YOUTUBE_SIM_PORT:-8085}"
export YTEMPIRE_YOUTUBE_API_URL="http://127.0.0.1:${YT_PORT}/"
mkdir -p "${YTEMPIRE_LOCAL_DIR:-.local}/logs"
uv run --frozen ytempire simulate youtube --port "$YT_PORT" --register \
  >"${YTEMPIRE_LOCAL_DIR:-.local}/logs/youtube-simulator.log" 2>&1 &
YT_SIM_PID=$!
trap 'kill "$YT_SIM_PID" 2>/dev/null || true' EXIT
for _ in $(seq 60); do
  curl -fsS "${YTEMPIRE_YOUTUBE_API_URL}_sim/state" >/dev/null 2>&1 && break
  sleep 1
done
for day in 2025-01-01 2025-01-02 2025-01-03; do
  curl -fsS -X POST -d "{\"day\": \"$day\"}" "${YTEMPIRE_YOUTUBE_API_URL}_sim/day" >/dev/null
  uv run --frozen ytempire ingest youtube --date "$day"
done
uv run --frozen ytempire quota
kill "$YT_SIM_PID" && wait "$YT_SIM_PID" 2>/dev/null || true
trap - EXIT

step "kafka events: simulated traffic -> raw_events (dlt) -> processor (tables, Redis, alerts)"
uv run --frozen ytempire simulate events --rate 5000 --count 20000
uv run --frozen ytempire ingest events
uv run --frozen ytempire process events --idle-timeout 5

step "streaming: sliding-window channel stats (Kafka -> Spark -> PostgreSQL)"
# A bounded catch-up run of the Spark job over the simulated traffic above (it
# resumes from its checkpoint on the next demo), then the real-time query.
uv run --frozen ytempire stream windows --available-now
uv run --frozen ytempire stream latest --limit 10

step "dbt warehouse: build, analyst views, docs"
# The YouTube and event landings above fill the raw schemas; --if-empty lands a
# simulated network directly only when raw_youtube is still empty.
uv run --frozen ytempire warehouse simulate --if-empty --days 14 --channels 25
uv run --frozen ytempire warehouse build
uv run --frozen ytempire warehouse show --limit 3
uv run --frozen ytempire warehouse docs
