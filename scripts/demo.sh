#!/usr/bin/env bash
# `make demo`: the warehouse's main job end to end on the local services.
# Each capability adds its step here; `make setup` has already run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '\n[ytempire demo] == %s\n' "$*"; }

step "services"
uv run --frozen ytempire doctor

step "streaming: sliding-window channel stats (Kafka -> Spark -> PostgreSQL)"
# Simulated traffic on video-events / channel-events, then a bounded catch-up run
# of the Spark job (it resumes from its checkpoint on the next demo), then the
# real-time query over the sink table. (sample-events stands in for the network
# simulator's event stream until that lands.)
uv run --frozen ytempire stream sample-events --events 5000 --minutes 10
uv run --frozen ytempire stream windows --available-now
uv run --frozen ytempire stream latest --limit 10
