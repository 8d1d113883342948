#!/usr/bin/env bash
# Starts the already-built Maverick server for the Playwright run (playwright.config.ts's
# webServer), on a fresh temporary data directory, so every run begins with an empty SQLite
# database that `--demo` seeds with the demo agency. It builds nothing.
#
#   MAVERICK_BIN   the server binary   (default: ${CARGO_TARGET_DIR:-../target}/debug/server)
#   E2E_SITE_ROOT  the built site, with pkg/ (default: ../target/site)
#   E2E_PORT       the port to listen on on 127.0.0.1 (default: 3100)
set -euo pipefail
cd "$(dirname "$0")"

MAVERICK_BIN="${MAVERICK_BIN:-${CARGO_TARGET_DIR:-../target}/debug/server}"
if [[ ! -x "$MAVERICK_BIN" ]]; then
  echo "start-server.sh: no Maverick server binary at '$MAVERICK_BIN'." >&2
  echo "Build it first (cargo leptos build), or set MAVERICK_BIN to the built server binary." >&2
  exit 1
fi
SITE_ROOT="${E2E_SITE_ROOT:-../target/site}"
if [[ ! -d "$SITE_ROOT/pkg" ]]; then
  echo "start-server.sh: warning: '$SITE_ROOT/pkg' is missing; pages will not hydrate (set E2E_SITE_ROOT)." >&2
fi

# exec below leaves no shell behind to clean up; drop leftovers of runs older than a day.
find "${TMPDIR:-/tmp}" -maxdepth 1 -type d -name 'maverick-e2e.*' -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
tmp="$(mktemp -d "${TMPDIR:-/tmp}/maverick-e2e.XXXXXX")"
echo "start-server.sh: data dir $tmp" >&2

export MAVERICK_DATA_DIR="$tmp"
export DATABASE_URL="sqlite://$tmp/e2e.db"
export LEPTOS_SITE_ADDR="127.0.0.1:${E2E_PORT:-3100}"
export LEPTOS_SITE_ROOT="$SITE_ROOT"
# A fixed key for tests only (never use it anywhere else).
export MAVERICK_SECRET_KEY="e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0"
unset MAVERICK_PUBLIC_URL
# The integrations spec sends webhooks to a receiver it starts on loopback (the SSRF guard
# refuses loopback otherwise).
export MAVERICK_WEBHOOK_ALLOW_PRIVATE=1
# Email Bison: a fake the client-profile spec starts on the next port (keys are verified there).
export MAVERICK_BISON_URL="http://127.0.0.1:$(( ${E2E_PORT:-3100} + 1 ))"

exec "$MAVERICK_BIN" --demo serve
