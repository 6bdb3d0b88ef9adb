#!/usr/bin/env bash
# Committed payouts per second (decision + postings + chain, durable) on SQLite and
# PostgreSQL, 1 and 64 writers, two contention shapes, bytes stored per payout, and in the same
# run each backend's own durable-commit rate as the baseline. Prints Markdown for BENCHMARKS.md.
#
#   bench/ledger/run.sh                 # PostgreSQL at postgres://postgres@127.0.0.1:5432/postgres
#   INCENTIVE_BENCH_PG_URL=postgres://… MEMBERS=5000 bench/ledger/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PG=${INCENTIVE_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
MEMBERS=${MEMBERS:-5000}
SINGLE=${SINGLE:-1000}        # payouts for the single-writer runs, which are slower
PERIODS=${PERIODS:-120}       # the hot member's months: ten years of a monthly plan
POLICY=policies/tangdaifu-smbg
cargo build --release -q -p incentive-store --bin ledger-load
L=target/release/ledger-load
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pg_base=${PG%/*}
psqlc() { psql "$PG" -qtAc "$1"; }
drop_pg() { PGOPTIONS="-c client_min_messages=warning" psql "$PG" -qtAc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null; }

rate() { sed -n 's/.*: \([0-9]*\) per second.*/\1/p'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(psql --version)"
echo "PostgreSQL: synchronous_commit=$(psqlc 'show synchronous_commit'), fsync=$(psqlc 'show fsync'); SQLite: WAL, synchronous=FULL"
echo

# --- baselines: how many durable commits a second each backend makes here, doing nothing else
drop_pg ledger_bench_pgbench; psqlc "CREATE DATABASE ledger_bench_pgbench" >/dev/null
pgbench -q -i -s 4 "$pg_base/ledger_bench_pgbench" >/dev/null 2>&1
pg1=$(pgbench -n -N -c 1 -j 1 -T 8 "$pg_base/ledger_bench_pgbench" 2>/dev/null | sed -n 's/^tps = \([0-9]*\).*/\1/p')
pg64=$(pgbench -n -N -c 64 -j 2 -T 8 "$pg_base/ledger_bench_pgbench" 2>/dev/null | sed -n 's/^tps = \([0-9]*\).*/\1/p')
drop_pg ledger_bench_pgbench
{
  echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT);"
  for i in $(seq 1 2000); do echo "BEGIN IMMEDIATE; INSERT INTO t (v) VALUES ('$i'); COMMIT;"; done
} > "$work/commits.sql"
start=$(date +%s.%N); sqlite3 "$work/baseline.db" < "$work/commits.sql" >/dev/null; end=$(date +%s.%N)
sq1=$(python3 -c "print(round(2000/($end-$start)))")
echo "| baseline (same run) | 1 writer | 64 writers |"
echo "| --- | ---: | ---: |"
echo "| PostgreSQL: pgbench simple-update (\`-N\`), transactions/s | $pg1 | $pg64 |"
echo "| SQLite: one-row \`INSERT\` transactions/s (sqlite3 CLI) | $sq1 | — |"
echo

row() { # backend shape writers payouts/s bytes
  echo "| $1 | $2 | $3 | $4 | $5 |"
}
echo "| backend | shape | writers | payouts/s | bytes stored per payout |"
echo "| --- | --- | ---: | ---: | ---: |"

# --- SQLite
sqlite_run() { # shape members periods writers count
  local db="$work/$1-$4.db"
  cp "$work/$1.db" "$db"
  local before; before=$(stat -c %s "$db")
  local r; r=$($L pay --db "sqlite://$db" --members "$2" --periods "$3" --writers "$4" 2>&1 >/dev/null | rate)
  sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  local after; after=$(stat -c %s "$db")
  row SQLite "$1" "$4" "$r" "$(( (after - before) / $5 ))"
}
$L setup --db "sqlite://$work/hot-pool.db" --policy $POLICY --members "$MEMBERS" >/dev/null
$L setup --db "sqlite://$work/hot-member.db" --policy $POLICY --members 1 --periods "$PERIODS" >/dev/null
sqlite3 "$work/hot-pool.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
sqlite3 "$work/hot-member.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
sqlite_run hot-pool "$SINGLE" 1 1 "$SINGLE"
sqlite_run hot-pool "$MEMBERS" 1 64 "$MEMBERS"
sqlite_run hot-member 1 "$PERIODS" 1 "$PERIODS"
sqlite_run hot-member 1 "$PERIODS" 64 "$PERIODS"

# --- PostgreSQL
pg_run() { # shape members periods writers count
  local db="ledger_bench_${1//-/_}_$4"
  drop_pg "$db"; psqlc "CREATE DATABASE $db TEMPLATE ledger_bench_${1//-/_}" >/dev/null
  psql "$pg_base/$db" -qc "ANALYZE" >/dev/null
  local before; before=$(psqlc "SELECT pg_database_size('$db')")
  local r; r=$($L pay --db "$pg_base/$db" --members "$2" --periods "$3" --writers "$4" 2>&1 >/dev/null | rate)
  psql "$pg_base/$db" -qc "CHECKPOINT" >/dev/null
  local after; after=$(psqlc "SELECT pg_database_size('$db')")
  row PostgreSQL "$1" "$4" "$r" "$(( (after - before) / $5 ))"
  drop_pg "$db"
}
for shape in hot_pool hot_member; do drop_pg "ledger_bench_$shape"; psqlc "CREATE DATABASE ledger_bench_$shape" >/dev/null; done
$L setup --db "$pg_base/ledger_bench_hot_pool" --policy $POLICY --members "$MEMBERS" >/dev/null
$L setup --db "$pg_base/ledger_bench_hot_member" --policy $POLICY --members 1 --periods "$PERIODS" >/dev/null
pg_run hot-pool "$SINGLE" 1 1 "$SINGLE"
pg_run hot-pool "$MEMBERS" 1 64 "$MEMBERS"
pg_run hot-member 1 "$PERIODS" 1 "$PERIODS"
pg_run hot-member 1 "$PERIODS" 64 "$PERIODS"
for shape in hot_pool hot_member; do drop_pg "ledger_bench_$shape"; done
