#!/usr/bin/env bash
# End to end: `incentive metrics --format json` on a readings CSV against pandas
# (read_csv, then per member mean, sample SD and TIR), wall time and peak memory.
#
#   bench/metrics-vs-pandas.sh
#
# Environment: SIZES (rows, default "1000000 10000000"), PER_MEMBER (readings per member,
# default 1000), RUNS (default 3), PYTHON (an interpreter with pandas; by default python3 if it
# has pandas, else a venv made under bench-data/.venv). Generated files go to bench-data/,
# which git ignores. Results are in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES="${SIZES:-1000000 10000000}"
PER_MEMBER="${PER_MEMBER:-1000}"
RUNS="${RUNS:-3}"
DATA=bench-data
mkdir -p "$DATA"

say() { printf '== %s\n' "$*" >&2; }

# --- tools -----------------------------------------------------------------------------------
if [ -n "${PYTHON:-}" ]; then
  py="$PYTHON"
elif python3 -c 'import pandas' 2>/dev/null; then
  py=python3
else
  if [ ! -x "$DATA/.venv/bin/python" ]; then
    say "making a venv with pandas in $DATA/.venv"
    python3 -m venv "$DATA/.venv"
    "$DATA/.venv/bin/pip" install --quiet pandas
  fi
  py="$DATA/.venv/bin/python"
fi
"$py" -c 'import pandas' || { echo "$py has no pandas; set PYTHON" >&2; exit 1; }

if [ ! -x /usr/bin/time ]; then
  say "installing GNU time (Debian package \`time\`)"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq time >/dev/null
fi

say "building (release)"
cargo build --release --quiet
cargo build --release --quiet -p incentive-engine --example synth_readings
incentive=target/release/incentive
synth=target/release/examples/synth_readings

# --- data ------------------------------------------------------------------------------------
for n in $SIZES; do
  file="$DATA/readings-$n.csv"
  if [ ! -s "$file" ]; then
    members=$(( n / PER_MEMBER > 0 ? n / PER_MEMBER : 1 ))
    say "writing $file ($n rows, $members members)"
    "$synth" --rows "$n" --members "$members" > "$file.part"
    mv "$file.part" "$file"
  fi
done

# Both tools must agree before their times mean anything (smallest file only).
small="${SIZES%% *}"
say "checking that incentive and pandas agree on $DATA/readings-$small.csv"
"$incentive" metrics --readings "$DATA/readings-$small.csv" --format json \
  > "$DATA/incentive-$small.json" 2>/dev/null
"$py" bench/pandas_metrics.py "$DATA/readings-$small.csv" --compare "$DATA/incentive-$small.json"

# --- timing ----------------------------------------------------------------------------------
# Runs a command under GNU time; prints "wall_seconds max_rss_kib".
timed() {
  local log="$DATA/time.log"
  /usr/bin/time -v -o "$log" "$@" > /dev/null 2>>"$DATA/stderr.log"
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
    /Maximum resident set size/ { rss = $2 }
    END { printf "%.2f %d\n", w, rss }' "$log"
}
median() { tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
maximum() { tr ' ' '\n' | sort -g | tail -n 1; }

: > "$DATA/stderr.log"
results=()
for n in $SIZES; do
  file="$DATA/readings-$n.csv"
  cat "$file" > /dev/null # into the page cache, so neither tool pays for the first read
  inc_w=(); inc_m=(); pd_w=(); pd_m=()
  for run in $(seq 1 "$RUNS"); do
    say "$n rows, run $run/$RUNS"
    t=$(timed "$incentive" metrics --readings "$file" --format json)
    read -r w m <<< "$t"; inc_w+=("$w"); inc_m+=("$m")
    t=$(timed "$py" bench/pandas_metrics.py "$file")
    read -r w m <<< "$t"; pd_w+=("$w"); pd_m+=("$m")
  done
  results+=("$n $(stat -c %s "$file") \
$(echo "${inc_w[*]}" | median) $(echo "${inc_m[*]}" | maximum) \
$(echo "${pd_w[*]}" | median) $(echo "${pd_m[*]}" | maximum) \
${inc_w[*]// /,} ${pd_w[*]// /,}")
  echo "$n incentive walls: ${inc_w[*]}; pandas walls: ${pd_w[*]}" >&2
done

# --- report ----------------------------------------------------------------------------------
printf '\n%-10s %8s | %13s %13s | %13s %13s | %13s %11s\n' \
  rows "file MB" "incentive s" "incentive MB" "pandas s" "pandas MB" "pandas/inc s" "pandas/inc MB"
for r in "${results[@]}"; do
  read -r n bytes iw im pw pm _ _ <<< "$r"
  awk -v n="$n" -v b="$bytes" -v iw="$iw" -v im="$im" -v pw="$pw" -v pm="$pm" 'BEGIN {
    printf "%-10d %8.0f | %13.2f %13.0f | %13.2f %13.0f | %12.2fx %10.2fx\n",
      n, b / 1e6, iw, im / 1024, pw, pm / 1024, pw / iw, pm / im }'
done
echo "(median wall of $RUNS alternating runs; peak RSS is the largest of the runs)"

# Memory per row kept: the slope of peak RSS between the smallest and largest file.
if [ "${#results[@]}" -ge 2 ]; then
  read -r n1 b1 _ im1 _ pm1 _ _ <<< "${results[0]}"
  read -r n2 b2 _ im2 _ pm2 _ _ <<< "${results[-1]}"
  awk -v n1="$n1" -v n2="$n2" -v b1="$b1" -v b2="$b2" -v i1="$im1" -v i2="$im2" -v p1="$pm1" -v p2="$pm2" 'BEGIN {
    d = n2 - n1
    printf "peak RSS per extra row: incentive %.1f B, pandas %.1f B (the file is %.1f B/row)\n",
      (i2 - i1) * 1024 / d, (p2 - p1) * 1024 / d, (b2 - b1) / d }'
fi
