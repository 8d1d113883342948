#!/usr/bin/env bash
# Attacks REST v1 with an independent OpenAPI fuzzer (Schemathesis, from PyPI, pinned) against the
# real server over a fresh SQLite database with the demo agency, as an admin's agency write token.
# Every check must pass: no 5xx, statuses / content types / bodies / headers as documented,
# schema-violating requests refused, schema-valid ones accepted. Two exceptions to the last, for
# rules a JSON Schema cannot state (and that have their own tests): a webhook URL is also checked
# against the SSRF guard and must parse as a URL, a move to `won` needs a deal value, and a
# personalization CSV must have the columns a run needs.
#   usage: scripts/api-fuzz.sh SERVER_BIN [MAX_EXAMPLES]
set -euo pipefail
bin=$(realpath "$1")
examples=${2:-25}
cd "$(dirname "$0")/.."
venv=${API_FUZZ_VENV:-${TMPDIR:-/tmp}/maverick-schemathesis-4.32.5}
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check schemathesis==4.32.5
fi
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export DATABASE_URL="sqlite://$dir/fuzz.db" MAVERICK_DATA_DIR="$dir" MAVERICK_SECRET_KEY="api-fuzz-key-0123456789abcdef0123456789"
export LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$dir/site" MAVERICK_API_RATE_PER_MINUTE=1000000
# Loopback endpoints are allowed here so that created endpoints are accepted; the guard has its tests.
export MAVERICK_WEBHOOK_ALLOW_PRIVATE=1 RUST_LOG=error
"$bin" seed-demo >/dev/null
token=$("$bin" api-token create --name fuzz --agency --scope write)
"$bin" serve >"$dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$port/api/v1/openapi.json"
cross_field='^(create_endpoint|update_endpoint|create_agency_endpoint|update_agency_endpoint|change_stage|start_run)$'
run() { "$venv/bin/schemathesis" run "$url" -H "Authorization: Bearer $token" --max-examples "$examples" --seed 13 "$@"; }
echo "==> Schemathesis: every operation, every check (except the two cross-field rules)"
run --checks all --exclude-operation-id-regex "$cross_field"
echo "==> Schemathesis: the cross-field operations, every check but schema-valid acceptance"
run --checks all --exclude-checks positive_data_acceptance --include-operation-id-regex "$cross_field"
if grep -q "panicked" "$dir/server.log"; then
  echo "the server panicked:"; grep -A5 panicked "$dir/server.log"; exit 1
fi
