#!/usr/bin/env bash
# Simulation throughput: `incentive simulate` of tangdaifu-smbg, MEMBERS × 12 months ×
# REPLICATIONS, on 1 thread and on every core, in one run; member-periods per second and the
# scaling between the two. Prints Markdown for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
MEMBERS=${MEMBERS:-1000}
REPLICATIONS=${REPLICATIONS:-40}
cargo build --release -q -p incentive
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=$((MEMBERS * 12 * REPLICATIONS))
echo "| threads | member-periods | seconds | member-periods/s | ÷ 1 thread |"
echo "| ---: | ---: | ---: | ---: | ---: |"
one=
for threads in 1 $(nproc); do
  start=$(date +%s.%N)
  target/release/incentive simulate --policy policies/tangdaifu-smbg --members "$MEMBERS" --periods 12 \
    --replications "$REPLICATIONS" --seed 2015 --threads "$threads" --out "$work/t$threads" >/dev/null 2>&1
  s=$(python3 -c "print(f'{$(date +%s.%N) - $start:.2f}')")
  rate=$(python3 -c "print(round($n / $s))")
  one=${one:-$rate}
  echo "| $threads | $n | $s | $rate | $(python3 -c "print(f'{$rate / $one:.2f}')") |"
done
cmp -s "$work/t1/summary.json" "$work/t$(nproc)/summary.json" && echo "(summary.json identical on 1 and $(nproc) threads)"
