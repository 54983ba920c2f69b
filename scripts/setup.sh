#!/usr/bin/env bash
# One-command, idempotent set-up of the warehouse on a fresh Debian machine:
#   1. uv and the locked Python environment (uv sync --frozen);
#   2. PostgreSQL, Redis, Java and Maven from Debian packages, if absent;
#   3. the Kafka broker, Spark connector and JDBC jars from Maven Central;
#   4. the local services, started on loopback (scripts/services.sh);
#   5. the database, schemas, roles and tables (sql/), and the Kafka topics;
#   6. a health report (ytempire doctor).
# Safe to run again: every step checks before it acts.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
step() { printf '\n[ytempire %s] == %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[ytempire] error: %s\n' "$*" >&2; exit 1; }
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"

step "1/6 Python environment (uv)"
if ! command -v uv >/dev/null; then
  python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv ||
    die "could not install uv from PyPI"
  export PATH="$HOME/.local/bin:$PATH"
fi
uv --version
uv sync --frozen --python 3.11

step "2/6 system packages (PostgreSQL, Redis, Java, Maven)"
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  # Keep Debian's maintainer scripts from starting their own server on the
  # ports our services use: we run our own instances under .local/.
  policy_made=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    policy_made=1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  ((policy_made)) && $SUDO rm -f /usr/sbin/policy-rc.d
else
  echo "all present"
fi

step "3/6 JVM jars (Maven Central: Kafka broker, Spark Kafka connector, JDBC driver)"
mvn -q -B -f jvm/pom.xml package
echo "jars in .local/jars: $(find .local/jars -name '*.jar' | wc -l)"

step "4/6 local services"
scripts/services.sh start

step "5/6 database DDL and Kafka topics"
uv run --frozen ytempire db init
uv run --frozen ytempire topics create

step "6/6 health"
uv run --frozen ytempire doctor
