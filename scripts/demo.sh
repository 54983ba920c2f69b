#!/usr/bin/env bash
# `make demo`: the warehouse's main job end to end on the local services, for
# one simulated network: the YouTube API simulator and the platform's event
# traffic describe the same 250 channels and their videos. `make setup` has
# already run. Each step prints one summary line (progress bars are drawn
# only on a terminal); logs of the background simulator go to .local/logs/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.local/bin:$PATH" # where setup installs uv
step() { printf '[ytempire demo] == %s\n' "$*"; }
yt() { uv run --frozen ytempire "$@"; }

LOCAL_DIR="${YTEMPIRE_LOCAL_DIR:-.local}"
FIRST_DAY=2025-01-01 LAST_DAY=2025-01-03 # the simulated network's first quota days
started=$SECONDS

# `make setup` has just printed the services' health (ytempire doctor).
step "youtube: the simulated Data API v3 for 250 channels (collected by the DAG below)"
YT_PORT="${YTEMPIRE_YOUTUBE_SIM_PORT:-8085}"
export YTEMPIRE_YOUTUBE_API_URL="http://127.0.0.1:${YT_PORT}/"

# --- the owner's view (issue 28; owner-dag) ---------------------------------------------
# The same simulator serves the Reporting and Analytics APIs and their OAuth. The owners of
# the first OWNER_CHANNELS channels granted access a month ago (their reporting jobs are 33
# days old), so the DAG's owner_sources group lands their month of daily reports on the
# first day, then each new day's, and their revenue; the other channels have no grant
# (outcome no_credentials, no call). Their grants go to a token store of the demo's own,
# written afresh (never a real one's), at an absolute path: Airflow's tasks read it too.
OWNER_CHANNELS=3
step "owner's view: $OWNER_CHANNELS channels' owners granted the Reporting and Analytics APIs a month ago"
export YTEMPIRE_YOUTUBE_REPORTING_API_URL="$YTEMPIRE_YOUTUBE_API_URL"
export YTEMPIRE_YOUTUBE_ANALYTICS_API_URL="$YTEMPIRE_YOUTUBE_API_URL"
export YTEMPIRE_YOUTUBE_OAUTH_TOKEN_URL="${YTEMPIRE_YOUTUBE_API_URL}token"
mkdir -p "$LOCAL_DIR/demo"
YTEMPIRE_YOUTUBE_TOKEN_STORE_PATH="$(cd "$LOCAL_DIR/demo" && pwd)/youtube_tokens.json"
export YTEMPIRE_YOUTUBE_TOKEN_STORE_PATH
rm -f "$YTEMPIRE_YOUTUBE_TOKEN_STORE_PATH"
OWNER_SIM_ARGS=(--owner-tokens --owner-channels "$OWNER_CHANNELS")
# --- end of the owner's view ------------------------------------------------------------
mkdir -p "$LOCAL_DIR/logs"
if (exec 3<>"/dev/tcp/127.0.0.1/$YT_PORT") 2>/dev/null; then
  echo "port $YT_PORT is in use (an earlier simulator?): stop it, or set YTEMPIRE_YOUTUBE_SIM_PORT" >&2
  exit 1
fi
# The environment's own executable (setup ran `uv sync`), so $! is the simulator
# itself and the kill below reaches it (not a shell or uv in between).
.venv/bin/ytempire simulate youtube --port "$YT_PORT" --register "${OWNER_SIM_ARGS[@]}" \
  >"$LOCAL_DIR/logs/youtube-simulator.log" 2>&1 &
YT_SIM_PID=$!
trap 'kill "$YT_SIM_PID" 2>/dev/null || true' EXIT
for _ in $(seq 120); do
  curl -fsS "${YTEMPIRE_YOUTUBE_API_URL}_sim/state" >/dev/null 2>&1 && break
  kill -0 "$YT_SIM_PID" 2>/dev/null || { cat "$LOCAL_DIR/logs/youtube-simulator.log" >&2; exit 1; }
  sleep 1
done

step "kafka events: the platform's events for the same videos, up to $FIRST_DAY -> processor"
yt simulate events --to "$FIRST_DAY"
# The processor is a continuous service in the local stack; here one bounded pass.
yt process events --idle-timeout 5

step "anomaly baseline: 90 labelled days of 25 simulated channels, one injected viral spike"
# The demo holds three days, too few for a seasonal baseline; the DAG's
# detect_anomalies task of the last day scores these series too.
yt quality simulate-history --channels 25 --days 90 --date "$LAST_DAY" --inject viral_spike

step "Airflow: api-server, scheduler, dag-processor, triggerer on 127.0.0.1:${YTEMPIRE_AIRFLOW_PORT:-8080}"
yt airflow start

step "ytempire_daily through Airflow's scheduler, one run per quota day (every dbt model a task)"
# Each run: collect the day's statistics (dlt) -> land the Kafka events (dlt) ->
# Spark windows catch-up -> GX raw checkpoint -> dbt, model by model (Cosmos) ->
# GX marts checkpoint + quality scores -> anomalies -> analyst views -> dbt docs
# -> the daily report. Each day is triggered (its quota_day param) and waited on
# until the scheduler ends it; `simulate next-day` moves both sources a day on.
for day in $FIRST_DAY 2025-01-02 $LAST_DAY; do
  [[ "$day" == "$FIRST_DAY" ]] || yt simulate next-day
  yt airflow run --date "$day" --no-table
done
yt airflow runs --from "$FIRST_DAY" --to "$LAST_DAY"
yt quota
kill "$YT_SIM_PID" 2>/dev/null && wait "$YT_SIM_PID" 2>/dev/null || true
trap - EXIT

step "what the last run found: real-time windows and the daily report"
yt stream latest --limit 3
sed '/^NETWORK/q' "$LOCAL_DIR/reports/daily-report-$LAST_DAY.txt" | sed '$d'
awk '/^OWNER.S VIEW/ { shown = 1 } shown && /^$/ { exit } shown' \
  "$LOCAL_DIR/reports/daily-report-$LAST_DAY.txt"

step "done in $((SECONDS - started))s: where to look next"
cat <<EOF
  dbt docs (models, lineage, column docs):  uv run ytempire warehouse docs --serve  -> http://127.0.0.1:${YTEMPIRE_DBT_DOCS_PORT:-8580}/
  analyst SQL (read-only, marts only):      psql "\$(uv run ytempire db conninfo)"
  the analyst views:                        mv_channel_performance, mv_video_analytics, mv_channel_revenue_daily,
                                            mv_niche_revenue_daily
  the owner's view (Reporting/Analytics API): fct_video_daily_watch_time, fct_channel_daily_watch_time,
                                            fct_channel_daily_traffic_sources, fct_channel_daily_devices,
                                            fct_channel_daily_playback_locations, fct_channel_daily_demographics
                                            (and _pivoted), fct_channel_daily_reach, fct_video_daily_reach,
                                            dim_reported_videos, fct_channel_daily_revenue_actuals,
                                            fct_video_daily_revenue_actuals (~48 h behind each day)
  the estimate, calibrated from actuals:    fct_niche_cpm_calibration; uv run ytempire revenue calibration-error
  their first rows:                         uv run ytempire warehouse show
  run a day again through Airflow:          uv run ytempire airflow run --date $LAST_DAY   (cleared and re-run; it converges)
  run a part by hand:                       uv run ytempire ingest youtube --date D | ingest events | process events
                                            uv run ytempire stream windows --available-now | warehouse build
                                            uv run ytempire quality validate | scores | anomalies
  the daily report (HTML and text):         $LOCAL_DIR/reports/daily-report-$LAST_DAY.html
  Great Expectations Data Docs:             $LOCAL_DIR/data_docs/gx/index.html
  the Airflow UI (these runs, task logs):   http://127.0.0.1:${YTEMPIRE_AIRFLOW_PORT:-8080}/  (login: uv run ytempire airflow login-info)
  still running, for the UI and the SQL:    Airflow (api-server, scheduler, dag-processor, triggerer),
                                            PostgreSQL, Redis and Kafka
  stop all of it:                           make down        (Airflow alone: make airflow-stop)
  every command:                            uv run ytempire --help   (add -v for library logs)
EOF
