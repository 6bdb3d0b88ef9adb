#!/usr/bin/env bash
# Simulation benchmarks (issue 7), one run, printing Markdown for BENCHMARKS.md:
#  1. where the time goes on one thread, for tangdaifu-smbg (finger-stick population) and
#     cgm-consensus (the CGM programme population): drawing readings, the engine alone over
#     readings already drawn (the baseline), the whole simulation, writing the results;
#  2. `incentive simulate` on 1 thread and on every core;
#  3. one replication of 1,000,000 members × 12 months: time and peak memory;
#  4. peak memory as replications grow, members fixed.
set -euo pipefail
cd "$(dirname "$0")/../.."
MEMBERS=${MEMBERS:-1000}
REPLICATIONS=${REPLICATIONS:-40}
BIG_MEMBERS=${BIG_MEMBERS:-1000000}
cargo build --release -q -p incentive -p incentive-simulations --example throughput
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=target/release/incentive

# Runs a command; prints "seconds peak_rss_mib".
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
took = time.monotonic() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"{took:.2f} {rss:.0f}")
PY
}

echo "### 1. One thread: where the time goes"
echo
echo "| policy | member-periods | draw /s | engine alone /s | simulation /s | simulation ÷ engine alone | writing results, s |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for spec in "policies/tangdaifu-smbg $MEMBERS 12 10" \
            "policies/cgm-consensus 100 4 2 simulations/populations/cgm-programme.toml"; do
  # shellcheck disable=SC2086
  line=$(target/release/examples/throughput $spec)
  python3 - "$line" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"| {r['policy']} | {r['member_periods']:,} | {r['draw_per_s']:,.0f} | {r['bare_per_s']:,.0f} | "
      f"{r['simulate_per_s']:,.0f} | {r['simulate_over_bare']:.2f} | {r['write_s']:.2f} |")
PY
done

echo
echo "### 2. \`incentive simulate\`, tangdaifu-smbg, $MEMBERS members × 12 months × $REPLICATIONS replications"
echo
echo "| threads | member-periods | seconds | member-periods/s | ÷ 1 thread | peak memory, MiB |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
n=$((MEMBERS * 12 * REPLICATIONS))
one=
for threads in 1 "$(nproc)"; do
  read -r s rss < <(measure "$bin" simulate --policy policies/tangdaifu-smbg --members "$MEMBERS" --periods 12 \
    --replications "$REPLICATIONS" --seed 2015 --threads "$threads" --out "$work/t$threads")
  rate=$(python3 -c "print(round($n / $s))")
  one=${one:-$rate}
  echo "| $threads | $n | $s | $rate | $(python3 -c "print(f'{$rate / $one:.2f}')") | $rss |"
done
cmp -s "$work/t1/summary.json" "$work/t$(nproc)/summary.json" && echo && echo "(summary.json identical on 1 and $(nproc) threads)"

echo
echo "### 3. One replication of $BIG_MEMBERS members × 12 months, tangdaifu-smbg"
echo
read -r s rss < <(measure "$bin" simulate --policy policies/tangdaifu-smbg --members "$BIG_MEMBERS" --periods 12 \
  --replications 1 --seed 2015 --out "$work/big")
echo "| member-periods | seconds | member-periods/s | peak memory, MiB |"
echo "| ---: | ---: | ---: | ---: |"
echo "| $((BIG_MEMBERS * 12)) | $s | $(python3 -c "print(round($BIG_MEMBERS * 12 / $s))") | $rss |"

echo
echo "### 4. Peak memory as replications grow (10,000 members × 12 months, every core)"
echo
echo "| replications | seconds | peak memory, MiB |"
echo "| ---: | ---: | ---: |"
for r in 5 20 80; do
  read -r s rss < <(measure "$bin" simulate --policy policies/tangdaifu-smbg --members 10000 --periods 12 \
    --replications "$r" --seed 2015 --out "$work/r$r")
  echo "| $r | $s | $rss |"
done
