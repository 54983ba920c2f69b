#!/usr/bin/env bash
# Start, stop or show the local services of the warehouse, on loopback only,
# each with its data and logs under $YTEMPIRE_LOCAL_DIR (default: .local/).
# Idempotent: starting a running service, or stopping a stopped one, does nothing.
#
#   scripts/services.sh start|stop|status [all|apps|NAME ...]
#
# Two tiers:
#   infrastructure (the default): PostgreSQL, Redis and a single-node Kafka
#     broker (KRaft): what setup, the tests and the DAG need;
#   apps: the long-running app services, run by `ytempire services`: processor
#     (Kafka events -> real-time effects), outbox (relay), webhook and windows
#     (continuous Spark job), with pid and log files in .local/services/.
#     A continuous Spark job keeps a core busy, so they start only when asked.
# `all` is both: start brings up the infrastructure first, stop ends the apps first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

PG_DIR="$LOCAL_DIR/postgres"
REDIS_DIR="$LOCAL_DIR/redis"
KAFKA_DIR="$LOCAL_DIR/kafka"
KAFKA_JARS="$LOCAL_DIR/jars/kafka-broker"

# --- PostgreSQL -------------------------------------------------------------

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$dir" ]] || die "PostgreSQL server binaries not found under /usr/lib/postgresql; run 'make setup'."
  echo "$dir"
}

# initdb and postgres refuse to run as root: run them as the 'postgres' user
# that Debian's package creates.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_prepare_dirs() {
  mkdir -p "$PG_DIR/run" "$PG_DIR/log"
  if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres:postgres "$PG_DIR"
    # The postgres user must be able to reach the data folder.
    local d="$PG_DIR"
    while [[ "$d" != "/" ]]; do
      d=$(dirname "$d")
      if ! runuser -u postgres -- test -x "$d"; then
        log "granting traverse permission on $d so the postgres user can reach $PG_DIR"
        chmod o+x "$d"
      fi
    done
  fi
}

pg_init() {
  [[ -f "$PG_DIR/data/PG_VERSION" ]] && return 0
  log "postgres: initialising a cluster in $PG_DIR/data"
  local pwfile="$PG_DIR/run/.pwfile"
  umask 077
  printf '%s\n' "$PG_ADMIN_PASSWORD" >"$pwfile"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$pwfile"
  as_pg "$(pg_bin)/initdb" -D "$PG_DIR/data" -U "$PG_ADMIN_USER" --pwfile="$pwfile" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
    >"$PG_DIR/log/initdb.log" 2>&1 || die "initdb failed; see $PG_DIR/log/initdb.log"
  rm -f "$pwfile"
  umask 022
  cat >>"$PG_DIR/data/postgresql.conf" <<EOF

# --- ytempire local settings (scripts/services.sh) ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR/run'
max_connections = 200
work_mem = 32MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
EOF
}

# Memory settings sized to this machine, rewritten on every start into an
# include read last (so they also reach clusters initialised before it).
# shared_buffers is a quarter of RAM (at most 8GB; YTEMPIRE_PG_SHARED_BUFFERS_MB
# overrides): the kernel may reclaim the page cache between two dbt runs, but
# not PostgreSQL's own buffers, which then keep the recent days of the facts
# that a daily run reads.
pg_write_settings() {
  local conf="$PG_DIR/data/postgresql.conf" settings="$PG_DIR/data/ytempire.conf"
  local ram_mb buffers_mb previous=""
  ram_mb=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
  buffers_mb=${YTEMPIRE_PG_SHARED_BUFFERS_MB:-$((ram_mb / 4))}
  ((buffers_mb <= 8192)) || buffers_mb=8192
  ((buffers_mb >= 128)) || buffers_mb=128
  [[ -f "$settings" ]] && previous=$(cat "$settings")
  printf '%s\n' \
    "# Written by scripts/services.sh on every start: set YTEMPIRE_PG_SHARED_BUFFERS_MB instead." \
    "shared_buffers = ${buffers_mb}MB" \
    "effective_cache_size = $((ram_mb * 3 / 4))MB" >"$settings"
  grep -qx "include_if_exists = 'ytempire.conf'" "$conf" \
    || printf '\n%s\n' "include_if_exists = 'ytempire.conf'" >>"$conf"
  if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$settings" "$conf"; fi
  if [[ "$previous" != "$(cat "$settings")" ]] && port_open 127.0.0.1 "$PG_PORT"; then
    log "postgres: memory settings changed (shared_buffers = ${buffers_mb}MB); they apply" \
      "after 'scripts/services.sh stop postgres && scripts/services.sh start postgres'"
  fi
}

# Wait until the server accepts connections. After an unclean stop it first
# replays its WAL, which can take minutes: the wait shows the replay's progress
# and gives up only when the server exits or YTEMPIRE_PG_START_TIMEOUT (s) passes.
pg_wait_ready() {
  local timeout=${YTEMPIRE_PG_START_TIMEOUT:-1800} waited=0 logfile="$PG_DIR/log/postgres.log"
  until "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; do
    # pg_ctl -W returns before the server writes its pid file: allow it 10 s.
    if { ((waited >= 10)) && [[ ! -f "$PG_DIR/data/postmaster.pid" ]]; } || ((waited >= timeout)); then
      tail -n 20 "$logfile" >&2 2>/dev/null || true
      die "postgres did not become ready within ${waited}s; see $logfile"
    fi
    if ((waited > 0 && waited % 15 == 0)); then
      log "postgres: not ready after ${waited}s ($(grep -E 'redo|recovery' "$logfile" \
        | tail -n 1 | cut -c 1-140))"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "postgres: ready on 127.0.0.1:$PG_PORT"
}

postgres_start() {
  pg_prepare_dirs
  pg_init
  pg_write_settings
  if port_open 127.0.0.1 "$PG_PORT"; then
    log "postgres: already running on 127.0.0.1:$PG_PORT"
  else
    log "postgres: starting on 127.0.0.1:$PG_PORT"
    as_pg "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log/postgres.log" -W start \
      >/dev/null || die "postgres did not start; see $PG_DIR/log/postgres.log"
  fi
  pg_wait_ready
}

postgres_stop() {
  if [[ -f "$PG_DIR/data/postmaster.pid" ]]; then
    log "postgres: stopping"
    as_pg "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
  else
    log "postgres: not running"
  fi
}

postgres_status() { service_status postgres 127.0.0.1 "$PG_PORT"; }

# --- Redis ------------------------------------------------------------------

redis_start() {
  mkdir -p "$REDIS_DIR"
  if port_open 127.0.0.1 "$REDIS_PORT"; then
    log "redis: already running on 127.0.0.1:$REDIS_PORT"
    return 0
  fi
  command -v redis-server >/dev/null || die "redis-server is not installed; run 'make setup'."
  log "redis: starting on 127.0.0.1:$REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
    --dir "$REDIS_DIR" --appendonly yes --save "" \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log"
  wait_port redis 127.0.0.1 "$REDIS_PORT" 30 "$REDIS_DIR/redis.log"
}

redis_stop() { stop_pidfile redis "$REDIS_DIR/redis.pid"; }
redis_status() { service_status redis 127.0.0.1 "$REDIS_PORT"; }

# --- Kafka (KRaft, combined broker + controller) ----------------------------

kafka_configure() {
  mkdir -p "$KAFKA_DIR/data" "$KAFKA_DIR/log"
  cat >"$KAFKA_DIR/server.properties" <<EOF
# Generated by scripts/services.sh: a single-node KRaft broker on loopback.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
log.retention.hours=168
EOF
  cat >"$KAFKA_DIR/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $KAFKA_DIR/log/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
}

# The broker's JVM command line; the classpath is everything `make jars` resolved.
kafka_java=(java -Xms512m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$KAFKA_DIR/log4j2.properties" -cp "$KAFKA_JARS/*")

kafka_start() {
  if port_open 127.0.0.1 "$KAFKA_PORT"; then
    log "kafka: already running on 127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  [[ -d "$KAFKA_JARS" ]] || die "Kafka broker jars missing in $KAFKA_JARS; run 'make jars'."
  kafka_configure
  if [[ ! -f "$KAFKA_DIR/data/meta.properties" ]]; then
    log "kafka: formatting KRaft storage in $KAFKA_DIR/data"
    [[ -s "$KAFKA_DIR/cluster.id" ]] ||
      "${kafka_java[@]}" kafka.tools.StorageTool random-uuid >"$KAFKA_DIR/cluster.id"
    "${kafka_java[@]}" kafka.tools.StorageTool format --ignore-formatted \
      -t "$(cat "$KAFKA_DIR/cluster.id")" -c "$KAFKA_DIR/server.properties" \
      >"$KAFKA_DIR/log/format.log" 2>&1 ||
      die "formatting Kafka storage failed; see $KAFKA_DIR/log/format.log"
  fi
  log "kafka: starting on 127.0.0.1:$KAFKA_PORT"
  # setsid detaches the broker from this shell's session so it outlives setup.
  setsid nohup "${kafka_java[@]}" kafka.Kafka "$KAFKA_DIR/server.properties" \
    >"$KAFKA_DIR/log/stdout.log" 2>&1 </dev/null &
  echo $! >"$KAFKA_DIR/kafka.pid"
  wait_port kafka 127.0.0.1 "$KAFKA_PORT" 90 "$KAFKA_DIR/log/server.log"
}

kafka_stop() { stop_pidfile kafka "$KAFKA_DIR/kafka.pid"; }
kafka_status() { service_status kafka 127.0.0.1 "$KAFKA_PORT"; }

# --- app services (ytempire services) ----------------------------------------

INFRA=(postgres redis kafka)
APPS=(processor outbox webhook windows)

apps_action() { "$ROOT/.venv/bin/ytempire" services "$@"; }

# --- main -------------------------------------------------------------------

main() {
  local action="${1:-}"
  shift || true
  local requested=("$@") infra=() apps=() name rc=0
  [[ ${#requested[@]} -gt 0 ]] || requested=("${INFRA[@]}")
  for name in "${requested[@]}"; do
    case "$name" in
      all) infra+=("${INFRA[@]}") apps+=("${APPS[@]}") ;;
      apps) apps+=("${APPS[@]}") ;;
      postgres | redis | kafka) infra+=("$name") ;;
      processor | outbox | webhook | windows) apps+=("$name") ;;
      *) die "unknown service '$name' (expected all, apps, ${INFRA[*]} or ${APPS[*]})" ;;
    esac
  done
  case "$action" in
    start)
      for name in "${infra[@]}"; do "${name}_start"; done
      ((${#apps[@]} == 0)) || apps_action start "${apps[@]}" ;;
    stop) # apps first, then the infrastructure in reverse order of dependency
      ((${#apps[@]} == 0)) || apps_action stop "${apps[@]}"
      for name in $(printf '%s\n' "${infra[@]}" | tac); do "${name}_stop"; done ;;
    status)
      for name in "${infra[@]}"; do "${name}_status" || rc=1; done
      ((${#apps[@]} == 0)) || apps_action status "${apps[@]}" || rc=1
      return "$rc" ;;
    *) die "usage: scripts/services.sh start|stop|status [all|apps|${INFRA[*]// /|}|${APPS[*]// /|} ...]" ;;
  esac
}

main "$@"
