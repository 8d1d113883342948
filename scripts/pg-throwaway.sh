#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL cluster for the tests, on a free local port, from the
# server binaries Debian installs under /usr/lib/postgresql/<version>/bin.
#   scripts/pg-throwaway.sh start DIR   → prints the server URL (postgres://postgres@127.0.0.1:PORT/postgres)
#   scripts/pg-throwaway.sh stop DIR
set -euo pipefail
cmd=${1:?usage: pg-throwaway.sh start|stop DIR}
dir=${2:?usage: pg-throwaway.sh start|stop DIR}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] && command -v pg_ctl >/dev/null; then bindir=$(dirname "$(command -v pg_ctl)"); fi
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql), or set TEST_DATABASE_URL" >&2; exit 1; }

as_pg() {
  # initdb refuses to run as root: use the postgres system user when we are root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_pg "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >"$dir/initdb.log" 2>&1
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    [ -d "$dir/data" ] && as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: pg-throwaway.sh start|stop DIR" >&2; exit 2 ;;
esac
