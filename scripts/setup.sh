#!/usr/bin/env bash
# One-command, idempotent set-up of the warehouse on a fresh Debian machine:
#   1. uv and the locked Python environment (uv sync --frozen, bytecode compiled);
#   2. PostgreSQL, Redis, Java, Maven and Chromium from Debian packages, if absent;
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
# uv lives in a virtual environment of its own (Debian's python3 refuses
# `pip install --user`, PEP 668), linked into ~/.local/bin, which the Makefile
# and the scripts put on PATH themselves: a fresh shell need not have it.
UV_VERSION="${YTEMPIRE_UV_VERSION:-0.9.7}"
export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null; then
  uv_venv="$HOME/.local/share/ytempire/uv-venv"
  echo "installing uv $UV_VERSION into $uv_venv (from PyPI)"
  /usr/bin/python3 -m venv "$uv_venv" ||
    die "could not create a venv for uv: install Debian's python3-venv (apt-get install python3-venv)"
  "$uv_venv/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION" ||
    die "could not install uv $UV_VERSION from PyPI into $uv_venv"
  mkdir -p "$HOME/.local/bin"
  ln -sf "$uv_venv/bin/uv" "$HOME/.local/bin/uv"
fi
uv --version
echo "syncing the locked Python environment into .venv (minutes on a fresh machine)"
# --compile-bytecode: the packages' bytecode is written once, here. Python never
# compiles them again, even where PYTHONDONTWRITEBYTECODE is set (this machine's
# shell and CI set it): without it every process compiled all it imported, e.g.
# 7.2 s against 3.3 s for the imports of one landing or Airflow task process.
uv sync --frozen --python 3.11 --quiet --compile-bytecode
echo "python environment: $(uv pip list --quiet 2>/dev/null | tail -n +3 | wc -l) packages in .venv"

step "2/6 system packages (PostgreSQL, Redis, Java, Maven, Chromium, fonts, npm)"
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
# Debian's chromium: the Airflow UI check and the daily report's test drive it
# through Playwright, which never downloads a browser of its own.
command -v chromium >/dev/null || missing+=(chromium)
# Fonts of the daily report: emoji in titles. Chromium draws the page's with Noto
# Color Emoji; matplotlib cannot scale a bitmap font, so the charts use Symbola's.
# npm installs the Data Docs' pinned scripts and styles (step 3), served from the site offline.
command -v npm >/dev/null || missing+=(npm)
for font in fonts-noto-color-emoji fonts-symbola; do
  dpkg-query -W -f='${Status}' "$font" 2>/dev/null | grep -q 'ok installed' || missing+=("$font")
done
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

step "3/6 JVM jars (Maven Central: Kafka broker, Spark Kafka connector, JDBC driver), Data Docs assets (npm)"
mvn -q -B -f jvm/pom.xml package
echo "jars in .local/jars: $(find .local/jars -name '*.jar' | wc -l)"
# The Data Docs' scripts, styles and fonts (expectations/offline_docs.py), pinned by
# their lockfile; reinstalled only when the lockfile changed.
assets="${YTEMPIRE_LOCAL_DIR:-.local}/data_docs_assets"
mkdir -p "$assets"
if ! cmp -s expectations/data_docs_assets/package-lock.json "$assets/package-lock.json" ||
  [[ ! -d "$assets/node_modules" ]]; then
  cp expectations/data_docs_assets/{package.json,package-lock.json,.npmrc} "$assets/"
  npm ci --prefix "$assets" --ignore-scripts --no-audit --no-fund --loglevel=error
fi
echo "Data Docs assets in $assets: $(find "$assets/node_modules" -maxdepth 1 -mindepth 1 | wc -l) packages"

step "4/6 local services"
scripts/services.sh start

step "5/6 database DDL and Kafka topics"
uv run --frozen ytempire db init
uv run --frozen ytempire topics create
# Airflow's own role and metadata database, and the dbt manifest its DAG renders from.
uv run --frozen ytempire airflow init

step "6/6 health"
uv run --frozen ytempire doctor
