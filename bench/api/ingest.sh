#!/usr/bin/env bash
# Bulk reading ingestion over HTTP: one `POST /v1/readings` of MEMBERS × PER_MEMBER readings as
# CSV and as NDJSON, on SQLite and PostgreSQL, into a database set up by `ledger-load setup`;
# beside it, in the same run, `incentive metrics` reading the same CSV (parsing and computing,
# no database, no HTTP): the ceiling the upload path could reach. Prints Markdown.
#
#   bench/api/ingest.sh          # needs curl and PostgreSQL on 127.0.0.1
set -euo pipefail
cd "$(dirname "$0")/../.."
PG=${INCENTIVE_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
MEMBERS=${MEMBERS:-10000}
PER_MEMBER=${PER_MEMBER:-100}
cargo build --release -q -p incentive -p incentive-store --bins
B=target/release/incentive
L=target/release/ledger-load
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true' EXIT
pg_base=${PG%/*}
drop_pg() { PGOPTIONS="-c client_min_messages=warning" psql "$PG" -qtAc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null; }
n=$((MEMBERS * PER_MEMBER))
python3 bench/api/readings.py "$MEMBERS" "$PER_MEMBER" "$work/april.csv" "$work/april.ndjson"
rate() { python3 -c "print(f'{$1/$2:,.0f}')"; }

start=$(date +%s.%N)
$B metrics --readings "$work/april.csv" --format json >/dev/null
parse=$(python3 -c "print($(date +%s.%N) - $start)")

# The issue's baseline: the same rows, shaped as the table stores them, imported by the
# database's own bulk loader into a bare table with the same key (no product, no HTTP).
python3 bench/api/bare_rows.py "$work/april.csv" "$work/bare.csv"
bare_schema="(tenant TEXT NOT NULL, member_id TEXT NOT NULL, time_ms BIGINT NOT NULL, source TEXT NOT NULL,
  offset_s INTEGER NOT NULL, mg_dl DOUBLE PRECISION, flag TEXT, context TEXT NOT NULL, received_at TEXT NOT NULL,
  PRIMARY KEY (tenant, member_id, time_ms, source))"
start=$(date +%s.%N)
sqlite3 "$work/bare.db" "CREATE TABLE readings $bare_schema WITHOUT ROWID;" ".import --csv $work/bare.csv readings"
bare_sqlite=$(python3 -c "print($(date +%s.%N) - $start)")
drop_pg bench_bare; psql "$PG" -qtAc "CREATE DATABASE bench_bare" >/dev/null
psql "$pg_base/bench_bare" -qtAc "CREATE TABLE readings $bare_schema" >/dev/null
start=$(date +%s.%N)
psql "$pg_base/bench_bare" -qtAc "\\copy readings FROM '$work/bare.csv' WITH (FORMAT csv)" >/dev/null
bare_pg=$(python3 -c "print($(date +%s.%N) - $start)")
drop_pg bench_bare
echo "Bare import of the same rows: SQLite \`.import\` $(rate "$n" "$bare_sqlite") rows/s, PostgreSQL \`COPY\` (CSV) $(rate "$n" "$bare_pg") rows/s."
echo

echo "| backend | body | readings | MB | seconds | readings/s | \`incentive metrics\` on the same CSV, readings/s | upload ÷ metrics | upload ÷ bare import |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for backend in sqlite postgres; do
  for format in csv ndjson; do
    if [ "$backend" = sqlite ]; then
      db="sqlite://$work/ingest-$format.db"
    else
      drop_pg bench_ingest; psql "$PG" -qtAc "CREATE DATABASE bench_ingest" >/dev/null; db="$pg_base/bench_ingest"
    fi
    $L setup --db "$db" --policy policies/tangdaifu-smbg --members "$MEMBERS" --periods 1 >/dev/null
    # The setup's writes flushed first: a checkpoint falling inside the upload moved a
    # PostgreSQL run by a second or more either way.
    [ "$backend" = postgres ] && psql "$PG" -qtAc "CHECKPOINT" >/dev/null
    key=$($B admin key create --tenant load --role platform --db "$db" | tail -n 1)
    RUST_LOG=warn $B serve --db "$db" --addr 127.0.0.1:0 --request-body-bytes-max 2000000000 \
      --request-timeout-ms 600000 >"$work/serve.out" 2>/dev/null &
    server=$!
    for _ in $(seq 1 50); do grep -q "listening on" "$work/serve.out" && break; sleep 0.2; done
    addr=$(sed -n 's/^listening on //p' "$work/serve.out")
    type=$([ "$format" = csv ] && echo text/csv || echo application/x-ndjson)
    file="$work/april.$format"
    seconds=$(curl -s -o "$work/answer.json" -w '%{time_total}' -H "authorization: Bearer $key" \
      -H "content-type: $type" --data-binary "@$file" "$addr/v1/readings")
    kill -TERM "$server"; wait "$server" || true; server=
    accepted=$(python3 -c "import json; print(json.load(open('$work/answer.json'))['accepted'])")
    [ "$accepted" = "$n" ] || { echo "only $accepted of $n accepted: $(head -c 400 "$work/answer.json")" >&2; exit 1; }
    mb=$(python3 -c "import os; print(f'{os.path.getsize(\"$file\")/1e6:.0f}')")
    up=$(rate "$n" "$seconds"); base=$(rate "$n" "$parse")
    ratio=$(python3 -c "print(f'{$parse/$seconds:.2f}')")
    bare=$([ "$backend" = sqlite ] && echo "$bare_sqlite" || echo "$bare_pg")
    vs_bare=$(python3 -c "print(f'{$bare/$seconds:.2f}')")
    echo "| $backend | $format | $n | $mb | $seconds | $up | $base | $ratio | $vs_bare |"
  done
done
[ -n "${PG:-}" ] && drop_pg bench_ingest
