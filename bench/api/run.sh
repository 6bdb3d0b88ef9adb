#!/usr/bin/env bash
# HTTP payouts per second and latency (wrk on loopback) at 1, 16 and 64 connections, on SQLite
# and PostgreSQL, beside the store's direct payout rate (ledger-load, 64 writers) measured in the
# same run on an identical database. Prints Markdown for BENCHMARKS.md.
#
#   bench/api/run.sh            # needs wrk (apt-get install wrk) and PostgreSQL on 127.0.0.1
#   BACKENDS=sqlite bench/api/run.sh    # one backend only
set -euo pipefail
cd "$(dirname "$0")/../.."
PG=${INCENTIVE_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
MEMBERS=${MEMBERS:-30000}     # more than 64 connections pay in SECONDS_EACH: every request a real payout
SECONDS_EACH=${SECONDS_EACH:-5}
cargo build --release -q -p incentive -p incentive-store --bins
B=target/release/incentive
L=target/release/ledger-load
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true' EXIT
pg_base=${PG%/*}
drop_pg() { PGOPTIONS="-c client_min_messages=warning" psql "$PG" -qtAc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null; }

fresh() { # backend name → a database URL with the members set up, copied from a template
  if [ "$1" = sqlite ]; then
    cp "$work/template.db" "$work/$2.db"; echo "sqlite://$work/$2.db"
  else
    drop_pg "$2"; psql "$PG" -qtAc "CREATE DATABASE $2 TEMPLATE bench_api_template" >/dev/null
    psql "$pg_base/$2" -qc "ANALYZE" >/dev/null; echo "$pg_base/$2"
  fi
}

echo "| backend | connections | HTTP payouts/s | p50 ms | p99 ms | direct store rate, 64 writers | HTTP ÷ direct |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for backend in ${BACKENDS:-sqlite postgres}; do
  if [ "$backend" = sqlite ]; then
    $L setup --db "sqlite://$work/template.db" --policy policies/tangdaifu-smbg --members "$MEMBERS" >/dev/null
    sqlite3 "$work/template.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  else
    drop_pg bench_api_template; psql "$PG" -qtAc "CREATE DATABASE bench_api_template" >/dev/null
    $L setup --db "$pg_base/bench_api_template" --policy policies/tangdaifu-smbg --members "$MEMBERS" >/dev/null
  fi
  direct_db=$(fresh "$backend" bench_api_direct)
  direct=$($L pay --db "$direct_db" --members "$MEMBERS" --writers 64 2>&1 >/dev/null | sed -n 's/.*: \([0-9]*\) per second.*/\1/p')
  for connections in 1 16 64; do
    db=$(fresh "$backend" "bench_api_c$connections")
    key=$($B admin key create --tenant load --role platform --db "$db" | tail -n 1)
    RUST_LOG=warn $B serve --db "$db" --addr 127.0.0.1:0 >"$work/serve.out" 2>/dev/null &
    server=$!
    for _ in $(seq 1 50); do grep -q "listening on" "$work/serve.out" && break; sleep 0.2; done
    addr=$(sed -n 's/^listening on //p' "$work/serve.out")
    threads=$(( connections < 2 ? 1 : 2 ))
    wrk -t "$threads" -c "$connections" -d "${SECONDS_EACH}s" --latency -s bench/api/payouts.lua "$addr" -- "$threads" "$key" >"$work/wrk.txt"
    kill -TERM "$server"; wait "$server" || true; server=
    rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$work/wrk.txt")
    p50=$(awk '$1=="50%" {print $2}' "$work/wrk.txt")
    p99=$(awk '$1=="99%" {print $2}' "$work/wrk.txt")
    non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$work/wrk.txt")
    # A request past the last member is a fast 404, not a payout: such a run measures nothing.
    [ -n "$non2xx" ] && { echo "$non2xx responses were not 2xx (more requests than MEMBERS=$MEMBERS?)" >&2; exit 1; }
    ratio=$(python3 -c "print(f'{float($rps)/float($direct):.2f}')")
    echo "| $backend | $connections | ${rps%.*} | $p50 | $p99 | $direct | $ratio |"
    [ "$backend" = postgres ] && drop_pg "bench_api_c$connections"
  done
  [ "$backend" = postgres ] && { drop_pg bench_api_direct; drop_pg bench_api_template; }
done
