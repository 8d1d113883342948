#!/usr/bin/env bash
# The prospects benchmark (issue 15): Maverick's resolver and Splink (DuckDB) on the same labelled
# file, in the same run: wall time, peak memory (/usr/bin/time -v), pairwise precision / recall / F1.
#   BENCH_PROSPECTS_RECORDS  records to generate (default 1000000; 100000 while tuning)
#   BENCH_PROSPECTS_SEED     generator seed (default 15)
#   BENCH_PROSPECTS_DIR      work folder: venv, files, outputs (default $TMPDIR/maverick-bench-prospects)
#   BENCH_PROSPECTS_SPLINK=0 skip Splink (Maverick alone)
#   BENCH_PROSPECTS_DB=1     also the database pipeline (load + two resolver runs) on SQLite, and on
#                            PostgreSQL when BENCH_DATABASE_URL is set
# Figures go to docs/performance.md ("Prospects").
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_PROSPECTS_RECORDS:-1000000}
SEED=${BENCH_PROSPECTS_SEED:-15}
DIR=${BENCH_PROSPECTS_DIR:-${TMPDIR:-/tmp}/maverick-bench-prospects}
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
mkdir -p "$DIR"
command -v /usr/bin/time >/dev/null || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }

if [[ ${BENCH_PROSPECTS_SPLINK:-1} != 0 && ! -x "$DIR/venv/bin/python" ]]; then
  python3 -m venv "$DIR/venv"
fi
if [[ ${BENCH_PROSPECTS_SPLINK:-1} != 0 ]] && ! "$DIR/venv/bin/python" -c 'import splink, duckdb' 2>/dev/null; then
  "$DIR/venv/bin/pip" install --quiet splink duckdb
fi

PEOPLE="$DIR/people-$N-$SEED.csv" TRUTH="$DIR/truth-$N-$SEED.csv"
if [[ ! -s $TRUTH ]]; then
  echo "generating $N records (seed $SEED)…"
  python3 scripts/bench-prospects-gen.py --records "$N" --seed "$SEED" --out "$PEOPLE" --truth "$TRUTH"
fi

cargo build --release --quiet -p backend --example prospects_resolve
echo "maverick…"
/usr/bin/time -v "$TARGET/release/examples/prospects_resolve" --input "$PEOPLE" --out "$DIR/maverick-$N.csv" >"$DIR/maverick-$N.json" 2>"$DIR/maverick-$N.time"
RUNS=(maverick "$DIR/maverick-$N.csv" "$DIR/maverick-$N.time")
if [[ ${BENCH_PROSPECTS_SPLINK:-1} != 0 ]]; then
  echo "splink… ($("$DIR/venv/bin/python" -c 'import splink; print(splink.__version__)'))"
  /usr/bin/time -v "$DIR/venv/bin/python" scripts/bench-prospects-splink.py "$PEOPLE" "$DIR/splink-$N.csv" 2>"$DIR/splink-$N.time"
  RUNS+=(splink "$DIR/splink-$N.csv" "$DIR/splink-$N.time")
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
python3 scripts/bench-prospects-eval.py "$TRUTH" "${RUNS[@]}"
echo "maverick's run report: $DIR/maverick-$N.json"
if [[ ${BENCH_PROSPECTS_DB:-0} != 0 ]]; then
  cargo build --release --quiet -p backend --example prospects_db_bench
  echo "database pipeline (SQLite)…"
  (unset BENCH_DATABASE_URL; /usr/bin/time -v "$TARGET/release/examples/prospects_db_bench" "$PEOPLE" 2>"$DIR/db-sqlite-$N.time")
  grep -E "Maximum resident" "$DIR/db-sqlite-$N.time"
  if [[ -n ${BENCH_DATABASE_URL:-} ]]; then
    echo "database pipeline (PostgreSQL)…"
    /usr/bin/time -v "$TARGET/release/examples/prospects_db_bench" "$PEOPLE" 2>"$DIR/db-postgres-$N.time"
    grep -E "Maximum resident" "$DIR/db-postgres-$N.time"
  fi
fi
